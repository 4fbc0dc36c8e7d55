/** Names, default scripts and writing directions of the languages this module can report. */

export type Direction = "ltr" | "rtl";

/** How a language is named in headings: `native` is "中文 (Chinese)" style, `english` is "Chinese". */
export type LangNameStyle = "native" | "english";

export const LANG_NAME_STYLES: readonly LangNameStyle[] = ["native", "english"];

interface LanguageInfo {
  english: string;
  native: string;
  /** ISO 15924 code of the script the language is normally written in. */
  script: string;
}

// prettier-ignore
const LANGUAGES: Record<string, LanguageInfo> = {
  und: { english: "Undetermined", native: "Undetermined", script: "Zyyy" },
  "zh-Hans": { english: "Simplified Chinese", native: "简体中文", script: "Hans" },
  "zh-Hant": { english: "Traditional Chinese", native: "繁體中文", script: "Hant" },
  zh: { english: "Chinese", native: "中文", script: "Hani" },
  ja: { english: "Japanese", native: "日本語", script: "Jpan" },
  ko: { english: "Korean", native: "한국어", script: "Kore" },
  en: { english: "English", native: "English", script: "Latn" },
  fr: { english: "French", native: "Français", script: "Latn" },
  de: { english: "German", native: "Deutsch", script: "Latn" },
  es: { english: "Spanish", native: "Español", script: "Latn" },
  pt: { english: "Portuguese", native: "Português", script: "Latn" },
  it: { english: "Italian", native: "Italiano", script: "Latn" },
  nl: { english: "Dutch", native: "Nederlands", script: "Latn" },
  ca: { english: "Catalan", native: "Català", script: "Latn" },
  eu: { english: "Basque", native: "Euskara", script: "Latn" },
  gl: { english: "Galician", native: "Galego", script: "Latn" },
  ro: { english: "Romanian", native: "Română", script: "Latn" },
  pl: { english: "Polish", native: "Polski", script: "Latn" },
  cs: { english: "Czech", native: "Čeština", script: "Latn" },
  sk: { english: "Slovak", native: "Slovenčina", script: "Latn" },
  sl: { english: "Slovenian", native: "Slovenščina", script: "Latn" },
  hr: { english: "Croatian", native: "Hrvatski", script: "Latn" },
  bs: { english: "Bosnian", native: "Bosanski", script: "Latn" },
  hu: { english: "Hungarian", native: "Magyar", script: "Latn" },
  fi: { english: "Finnish", native: "Suomi", script: "Latn" },
  et: { english: "Estonian", native: "Eesti", script: "Latn" },
  lv: { english: "Latvian", native: "Latviešu", script: "Latn" },
  lt: { english: "Lithuanian", native: "Lietuvių", script: "Latn" },
  sv: { english: "Swedish", native: "Svenska", script: "Latn" },
  da: { english: "Danish", native: "Dansk", script: "Latn" },
  no: { english: "Norwegian", native: "Norsk", script: "Latn" },
  nb: { english: "Norwegian Bokmål", native: "Norsk bokmål", script: "Latn" },
  nn: { english: "Norwegian Nynorsk", native: "Norsk nynorsk", script: "Latn" },
  is: { english: "Icelandic", native: "Íslenska", script: "Latn" },
  ga: { english: "Irish", native: "Gaeilge", script: "Latn" },
  cy: { english: "Welsh", native: "Cymraeg", script: "Latn" },
  sq: { english: "Albanian", native: "Shqip", script: "Latn" },
  tr: { english: "Turkish", native: "Türkçe", script: "Latn" },
  az: { english: "Azerbaijani", native: "Azərbaycanca", script: "Latn" },
  uz: { english: "Uzbek", native: "Oʻzbekcha", script: "Latn" },
  vi: { english: "Vietnamese", native: "Tiếng Việt", script: "Latn" },
  id: { english: "Indonesian", native: "Bahasa Indonesia", script: "Latn" },
  ms: { english: "Malay", native: "Bahasa Melayu", script: "Latn" },
  tl: { english: "Tagalog", native: "Tagalog", script: "Latn" },
  sw: { english: "Swahili", native: "Kiswahili", script: "Latn" },
  yo: { english: "Yoruba", native: "Yorùbá", script: "Latn" },
  ha: { english: "Hausa", native: "Hausa", script: "Latn" },
  af: { english: "Afrikaans", native: "Afrikaans", script: "Latn" },
  la: { english: "Latin", native: "Latina", script: "Latn" },
  eo: { english: "Esperanto", native: "Esperanto", script: "Latn" },
  ru: { english: "Russian", native: "Русский", script: "Cyrl" },
  uk: { english: "Ukrainian", native: "Українська", script: "Cyrl" },
  be: { english: "Belarusian", native: "Беларуская", script: "Cyrl" },
  bg: { english: "Bulgarian", native: "Български", script: "Cyrl" },
  sr: { english: "Serbian", native: "Српски", script: "Cyrl" },
  mk: { english: "Macedonian", native: "Македонски", script: "Cyrl" },
  kk: { english: "Kazakh", native: "Қазақша", script: "Cyrl" },
  ky: { english: "Kyrgyz", native: "Кыргызча", script: "Cyrl" },
  tg: { english: "Tajik", native: "Тоҷикӣ", script: "Cyrl" },
  mn: { english: "Mongolian", native: "Монгол", script: "Cyrl" },
  el: { english: "Greek", native: "Ελληνικά", script: "Grek" },
  hy: { english: "Armenian", native: "Հայերեն", script: "Armn" },
  ka: { english: "Georgian", native: "ქართული", script: "Geor" },
  he: { english: "Hebrew", native: "עברית", script: "Hebr" },
  yi: { english: "Yiddish", native: "ייִדיש", script: "Hebr" },
  ar: { english: "Arabic", native: "العربية", script: "Arab" },
  fa: { english: "Persian", native: "فارسی", script: "Arab" },
  ur: { english: "Urdu", native: "اردو", script: "Arab" },
  ps: { english: "Pashto", native: "پښتو", script: "Arab" },
  ckb: { english: "Central Kurdish", native: "کوردی", script: "Arab" },
  ug: { english: "Uyghur", native: "ئۇيغۇرچە", script: "Arab" },
  syr: { english: "Syriac", native: "ܠܫܢܐ ܣܘܪܝܝܐ", script: "Syrc" },
  dv: { english: "Dhivehi", native: "ދިވެހި", script: "Thaa" },
  hi: { english: "Hindi", native: "हिन्दी", script: "Deva" },
  mr: { english: "Marathi", native: "मराठी", script: "Deva" },
  ne: { english: "Nepali", native: "नेपाली", script: "Deva" },
  bn: { english: "Bengali", native: "বাংলা", script: "Beng" },
  pa: { english: "Punjabi", native: "ਪੰਜਾਬੀ", script: "Guru" },
  gu: { english: "Gujarati", native: "ગુજરાતી", script: "Gujr" },
  or: { english: "Odia", native: "ଓଡ଼ିଆ", script: "Orya" },
  ta: { english: "Tamil", native: "தமிழ்", script: "Taml" },
  te: { english: "Telugu", native: "తెలుగు", script: "Telu" },
  kn: { english: "Kannada", native: "ಕನ್ನಡ", script: "Knda" },
  ml: { english: "Malayalam", native: "മലയാളം", script: "Mlym" },
  si: { english: "Sinhala", native: "සිංහල", script: "Sinh" },
  th: { english: "Thai", native: "ไทย", script: "Thai" },
  lo: { english: "Lao", native: "ລາວ", script: "Laoo" },
  km: { english: "Khmer", native: "ខ្មែរ", script: "Khmr" },
  my: { english: "Burmese", native: "မြန်မာ", script: "Mymr" },
  bo: { english: "Tibetan", native: "བོད་ཡིག", script: "Tibt" },
  am: { english: "Amharic", native: "አማርኛ", script: "Ethi" },
};

const RTL = new Set(["ar", "fa", "ur", "ps", "ckb", "ug", "sd", "he", "yi", "syr", "dv"]);

/** The primary language subtag: `zh-Hant` → `zh`. */
export function primaryTag(lang: string): string {
  return lang.split("-")[0].toLowerCase();
}

function info(lang: string): LanguageInfo | undefined {
  return LANGUAGES[lang] ?? LANGUAGES[primaryTag(lang)];
}

export function englishName(lang: string): string {
  return info(lang)?.english ?? lang;
}

export function nativeName(lang: string): string {
  return info(lang)?.native ?? englishName(lang);
}

/** "中文 (Chinese)" for `native` (the English name alone when both are the same), "Chinese" for `english`. */
export function languageName(lang: string, style: LangNameStyle = "native"): string {
  const english = englishName(lang);
  if (style === "english") return english;
  const native = nativeName(lang);
  return native === english ? english : `${native} (${english})`;
}

/** ISO 15924 code of the script a language is written in (`Hans`, `Jpan`, `Latn`, …); `Zyyy` when unknown. */
export function languageScript(lang: string): string {
  const subtags = lang.split("-");
  const script = subtags.find((s, i) => i > 0 && /^[A-Z][a-z]{3}$/.test(s));
  return script ?? info(lang)?.script ?? "Zyyy";
}

export function languageDirection(lang: string): Direction {
  return RTL.has(primaryTag(lang)) ? "rtl" : "ltr";
}

/** Every language with a known name, as BCP-47 tags. */
export function knownLanguages(): string[] {
  return Object.keys(LANGUAGES).filter((l) => l !== "und");
}

/**
 * Looks a language up by any of its names or tags, as a model might write it in a heading:
 * "Chinese", "中文", "简体中文", "English", "日文", "zh-Hant", "Japanese (日本語)". Undefined when unknown.
 */
export function languageFromName(name: string): string | undefined {
  const key = normalizeName(name);
  if (!key) return undefined;
  return NAME_INDEX().get(key);
}

function normalizeName(name: string): string {
  return name
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[\s_]+/g, " ")
    .replace(/^(the )/, "")
    .replace(/( language| text| version| section)$/, "")
    .replace(/(語言|语言|文字|部分)$/, "")
    .trim();
}

let index: Map<string, string> | undefined;

function NAME_INDEX(): Map<string, string> {
  if (index) return index;
  index = new Map();
  const add = (name: string, lang: string) => {
    const key = normalizeName(name);
    if (key && !index!.has(key)) index!.set(key, lang);
  };
  for (const [lang, { english, native }] of Object.entries(LANGUAGES)) {
    if (lang === "und") continue;
    add(lang, lang);
    add(english, lang);
    add(native, lang);
  }
  // Names a model answering in Chinese or Japanese tends to use, and common aliases.
  // prettier-ignore
  const aliases: Array<[string, string]> = [
    ["中文", "zh"], ["汉语", "zh"], ["漢語", "zh"], ["华语", "zh"], ["華語", "zh"], ["中国語", "zh"], ["Mandarin", "zh"],
    ["简体中文", "zh-Hans"], ["简体", "zh-Hans"], ["中文（简体）", "zh-Hans"], ["Chinese (Simplified)", "zh-Hans"], ["Simplified Chinese", "zh-Hans"],
    ["繁体中文", "zh-Hant"], ["繁體中文", "zh-Hant"], ["繁體", "zh-Hant"], ["繁体", "zh-Hant"], ["中文（繁體）", "zh-Hant"], ["中文（繁体）", "zh-Hant"], ["Chinese (Traditional)", "zh-Hant"], ["Traditional Chinese", "zh-Hant"],
    ["英文", "en"], ["英语", "en"], ["英語", "en"],
    ["日文", "ja"], ["日语", "ja"], ["日語", "ja"], ["日本語", "ja"], ["日本语", "ja"],
    ["韩文", "ko"], ["韓文", "ko"], ["韩语", "ko"], ["韓語", "ko"], ["朝鲜语", "ko"], ["韓国語", "ko"], ["한국어", "ko"], ["한글", "ko"],
    ["法文", "fr"], ["法语", "fr"], ["法語", "fr"], ["フランス語", "fr"],
    ["德文", "de"], ["德语", "de"], ["德語", "de"], ["ドイツ語", "de"],
    ["西班牙文", "es"], ["西班牙语", "es"], ["西班牙語", "es"], ["スペイン語", "es"],
    ["葡萄牙文", "pt"], ["葡萄牙语", "pt"], ["葡萄牙語", "pt"],
    ["意大利文", "it"], ["意大利语", "it"], ["義大利文", "it"], ["イタリア語", "it"],
    ["俄文", "ru"], ["俄语", "ru"], ["俄語", "ru"], ["ロシア語", "ru"],
    ["乌克兰语", "uk"], ["烏克蘭語", "uk"],
    ["阿拉伯文", "ar"], ["阿拉伯语", "ar"], ["阿拉伯語", "ar"], ["アラビア語", "ar"],
    ["希伯来语", "he"], ["希伯來語", "he"], ["波斯语", "fa"], ["乌尔都语", "ur"],
    ["泰文", "th"], ["泰语", "th"], ["泰語", "th"], ["タイ語", "th"],
    ["越南文", "vi"], ["越南语", "vi"], ["越南語", "vi"], ["ベトナム語", "vi"],
    ["印地语", "hi"], ["印地語", "hi"], ["印尼语", "id"], ["印尼文", "id"], ["马来语", "ms"],
    ["其他", "und"], ["其它", "und"], ["其他语言", "und"], ["その他", "und"], ["Other", "und"], ["Others", "und"], ["数字", "und"], ["Numbers", "und"],
    ["Farsi", "fa"], ["Bahasa", "id"], ["Chinese", "zh"], ["Japanese", "ja"], ["Korean", "ko"],
  ];
  for (const [name, lang] of aliases) add(name, lang);
  return index;
}
