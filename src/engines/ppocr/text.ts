/**
 * Clean-up of recognised text (pure functions).
 *
 * - The Chinese dictionary holds full-width forms of ASCII, which the recogniser picks for
 *   letter-spaced Latin text ("ＴＲＡＶＥＬ"): full-width letters and digits become ASCII
 *   everywhere; full-width punctuation only on lines without CJK characters, where it is the norm.
 * - The recogniser mixes up zero and the letter O. Only where the neighbours leave no doubt is it
 *   undone: a 0 between two Latin letters ("J0HOR", "L0T") or opening a lowercase word ("0live")
 *   is an O; an O between two digits ("2O18") is a 0. A 0 after letters and before digits or the
 *   end ("RM0.00", "A0", "JM0517726") is left as it is.
 * - Likewise the digit 1 and the letter l, alike in many receipt fonts: a 1 between two lowercase
 *   letters in a word with no other digit ("Peta1ing") is an l. Codes keep their digits ("a1b2").
 */

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const FULLWIDTH_ALNUM = /[\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A]/gu;
const FULLWIDTH_ANY = /[\uFF01-\uFF5E]/gu;

const half = (ch: string) => String.fromCharCode(ch.charCodeAt(0) - 0xfee0);

function zeroAndO(text: string): string {
  return text
    .replace(/(?<=[A-Za-z])0+(?=[A-Za-z])/g, (zeros, offset: number) => {
      // Case from the letters around: "J0HOR" → "JOHOR", "c0de" → "code".
      const lower = /[a-z]/.test(text[offset - 1]!) && /[a-z]/.test(text[offset + zeros.length] ?? "");
      return (lower ? "o" : "O").repeat(zeros.length);
    })
    .replace(/(?<![\p{L}\p{N}])0(?=[a-z]{2,}(?![\p{N}]))/gu, "O")
    .replace(/(?<=\d)[Oo]+(?=\d)/g, (os) => "0".repeat(os.length));
}

function oneAndL(text: string): string {
  return text.replace(/[A-Za-z0-9]*[a-z]1+[a-z][A-Za-z0-9]*/g, (word) => (/[02-9]/.test(word) ? word : word.replace(/(?<=[a-z])1+(?=[a-z])/g, (ones) => "l".repeat(ones.length))));
}

export function cleanText(text: string): string {
  const width = CJK.test(text) ? text.replace(FULLWIDTH_ALNUM, half) : text.replace(FULLWIDTH_ANY, half).replace(/\u3000/gu, " ");
  return oneAndL(zeroAndO(width));
}
