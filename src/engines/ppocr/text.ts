/**
 * Clean-up of recognised text. The Chinese dictionary holds full-width forms of ASCII, which the
 * recogniser picks for letter-spaced Latin text ("ＴＲＡＶＥＬ"): full-width letters and digits
 * become ASCII everywhere; full-width punctuation only on lines without CJK characters, where
 * it is the norm.
 */

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const FULLWIDTH_ALNUM = /[\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A]/gu;
const FULLWIDTH_ANY = /[\uFF01-\uFF5E]/gu;

const half = (ch: string) => String.fromCharCode(ch.charCodeAt(0) - 0xfee0);

export function cleanText(text: string): string {
  if (CJK.test(text)) return text.replace(FULLWIDTH_ALNUM, half);
  return text.replace(FULLWIDTH_ANY, half).replace(/\u3000/gu, " ");
}
