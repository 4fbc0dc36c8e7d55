/**
 * Letter rules: languages that a script alone, or a few distinctive letters or words of it, decide
 * without an n-gram model. Each rule returns a language when the letters decide, or undefined
 * when the n-gram detector (and the line's neighbours) have to.
 */
import type { ScriptCode } from "./scripts.js";

/** Scripts that one language owns, for the purposes of OCR output. */
export const SCRIPT_LANGUAGE: Partial<Record<ScriptCode, string>> = {
  Hang: "ko",
  Thai: "th",
  Grek: "el",
  Armn: "hy",
  Geor: "ka",
  Beng: "bn",
  Guru: "pa",
  Gujr: "gu",
  Orya: "or",
  Taml: "ta",
  Telu: "te",
  Knda: "kn",
  Mlym: "ml",
  Sinh: "si",
  Laoo: "lo",
  Khmr: "km",
  Mymr: "my",
  Tibt: "bo",
  Ethi: "am",
  Syrc: "syr",
  Thaa: "dv",
  Mong: "mn",
};

/** Languages an n-gram detector chooses among, per script, and the default when nothing decides. */
export const SCRIPT_CANDIDATES: Partial<Record<ScriptCode, { candidates: readonly string[]; fallback: string }>> = {
  Latn: {
    // prettier-ignore
    candidates: ["en", "fr", "de", "es", "pt", "it", "nl", "ca", "eu", "ro", "pl", "cs", "sk", "sl", "hr", "hu", "fi", "et", "lv", "lt",
      "sv", "da", "no", "is", "sq", "tr", "az", "vi", "id", "ms", "tl", "yo", "ga", "cy", "af", "sw", "uz", "ha", "la"],
    fallback: "en",
  },
  Cyrl: { candidates: ["ru", "uk", "be", "bg", "sr", "mk", "kk", "ky", "mn", "tg"], fallback: "ru" },
  Arab: { candidates: ["ar", "fa", "ur", "ps", "ckb", "ug"], fallback: "ar" },
  Deva: { candidates: ["hi", "mr", "ne"], fallback: "hi" },
  Hebr: { candidates: ["he", "yi"], fallback: "he" },
};

function has(text: string, re: RegExp): number {
  return text.match(re)?.length ?? 0;
}

/** Arabic-script languages by the letters only some of them have. */
export function arabicByLetters(text: string): string | undefined {
  if (has(text, /[ٹڈڑںےۓ]/gu)) return "ur";
  if (has(text, /[ټډړږښګڼۍ]/gu)) return "ps";
  if (has(text, /[ڕڵێ]/gu) || (has(text, /ۆ/gu) && has(text, /ە/gu) && !has(text, /[ۇۈۋ]/gu))) return "ckb";
  if (has(text, /[ۇۈۋې]/gu)) return "ug";
  const arabicOnly = has(text, /[ةيكىؤإأ]/gu);
  const persian = has(text, /[پچژگکی]/gu);
  if (persian && !arabicOnly) return "fa";
  if (arabicOnly && !persian) return "ar";
  return undefined;
}

/** Cyrillic languages by their distinctive letters. */
export function cyrillicByLetters(text: string): string | undefined {
  const t = text.toLowerCase();
  if (has(t, /[ђћ]/gu)) return "sr";
  if (has(t, /[ѓќѕ]/gu)) return "mk";
  if (has(t, /[ҷӣӯ]/gu)) return "tg";
  if (has(t, /[әұ]/gu) || (has(t, /[қғ]/gu) && has(t, /[ңөүһі]/gu))) return "kk";
  if (has(t, /[їєґ]/gu)) return "uk";
  if (has(t, /ў/gu)) return has(t, /[қғҳ]/gu) ? undefined : "be";
  if (has(t, /і/gu)) return has(t, /[ыэ]/gu) ? "be" : "uk";
  if (has(t, /[ң]/gu) && has(t, /[өү]/gu)) return "ky";
  if (has(t, /[өү]/gu)) return "mn";
  if (has(t, /[јљњџ]/gu)) return undefined; // Serbian or Macedonian: the detector decides
  if (has(t, /[ыэё]/gu)) return "ru";
  return undefined;
}

// Frequent function words that one of Hindi, Marathi, Nepali uses and the others do not.
// prettier-ignore
const DEVANAGARI_WORDS: Record<string, ReadonlySet<string>> = {
  hi: new Set(["की", "है", "हैं", "में", "और", "से", "ने", "भी", "यह", "लिए", "किसी", "इस", "वह", "था", "थे", "गया", "होगा", "अपने", "द्वारा"]),
  mr: new Set(["आहे", "आणि", "आहेत", "करणे", "मध्ये", "त्या", "असे", "हा", "ही", "हे", "व", "किंवा", "नाही", "होते", "प्रत्येकाला"]),
  ne: new Set(["छ", "छन्", "हुने", "पनि", "लाई", "गर्न", "हुन्छ", "थियो", "र", "मा", "गर्ने", "सक्ने", "प्रत्येक व्यक्तिलाई"]),
};

/** Hindi, Marathi or Nepali by function words (and Marathi's ळ); undefined when they do not tell. */
export function devanagariByWords(text: string): string | undefined {
  const counts: Record<string, number> = { hi: 0, mr: has(text, /ळ/gu), ne: has(text, /हरू/gu) };
  for (const word of text.split(/[\s,.;:!?()।॥"'“”‘’-]+/u)) {
    for (const [lang, words] of Object.entries(DEVANAGARI_WORDS)) if (words.has(word)) counts[lang]++;
  }
  const ranked = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  if (ranked[0][1] === 0 || ranked[0][1] === ranked[1][1]) return undefined;
  return ranked[0][0];
}

/** Yiddish writes its own digraph letters and vowel points that Hebrew text does not. */
export function hebrewByLetters(text: string): string {
  return has(text, /[װױײ]|[אפ][ַָּ]/gu) >= 1 ? "yi" : "he";
}

// Vietnamese: ơ ư đ and the stacked tone marks of Latin Extended Additional (U+1EA0–U+1EF1);
// Welsh's ẁ ẃ ẅ ỳ sit outside that range.
const VIETNAMESE = /[ơưđăƠƯĐĂ\u1EA0-\u1EF1]/gu;

/** Latin-script languages that letters alone decide (Vietnamese); the detector decides the rest. */
export function latinByLetters(text: string): string | undefined {
  return has(text, VIETNAMESE) >= 2 ? "vi" : undefined;
}

// Spellings and words of Malaysian Malay that Indonesian writes differently, and the reverse.
// prettier-ignore
const MALAY = new Set(["ialah", "iaitu", "bahawa", "kerana", "sahaja", "mahu", "wang", "kerajaan", "pejabat", "percuma", "sebarang", "mana-mana", "perlembagaan", "kenyataan", "berkenaan", "hendaklah", "dasar", "kakitangan", "syarikat"]);
// prettier-ignore
const INDONESIAN = new Set(["bahwa", "yaitu", "karena", "saja", "mau", "uang", "pemerintah", "kantor", "gratis", "bisa", "tapi", "nggak", "sesuai", "perusahaan", "pegawai", "anda", "dimana", "bagaimana"]);

/** Malay and Indonesian share most words; Malaysian spellings decide, Indonesian (the larger) otherwise. */
export function malayOrIndonesian(text: string): "ms" | "id" {
  let ms = 0;
  let id = 0;
  for (const word of text.toLowerCase().split(/[^\p{L}-]+/u)) {
    if (MALAY.has(word)) ms++;
    if (INDONESIAN.has(word)) id++;
  }
  return ms > id ? "ms" : "id";
}
