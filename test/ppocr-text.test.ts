/** ppocr's clean-up of recognised text: full-width ASCII, and zero / letter-O mix-ups where the neighbours are clear. */
import { describe, expect, it } from "vitest";
import { cleanText } from "../src/engines/ppocr/text.js";

describe("cleanText", () => {
  it("turns full-width letters and digits into ASCII, and full-width punctuation outside CJK lines", () => {
    expect(cleanText("ＴＲＡＶＥＬ　２０２５！")).toBe("TRAVEL 2025!");
    expect(cleanText("价格：１２元")).toBe("价格：12元");
  });

  it("reads a 0 between letters, or opening a lowercase word, as O; an O between digits as 0", () => {
    expect(cleanText("0live 0il 500 ml")).toBe("Olive Oil 500 ml");
    expect(cleanText("81100 J0HOR BAHRU, J0HOR.")).toBe("81100 JOHOR BAHRU, JOHOR.");
    expect(cleanText("L0T 1851-A, B00K")).toBe("LOT 1851-A, BOOK");
    expect(cleanText("c0de")).toBe("code");
    expect(cleanText("Date: 2O18-01-05")).toBe("Date: 2018-01-05");
  });

  it("leaves zeros that can be digits: amounts after a currency code, sizes, codes, hex", () => {
    for (const text of ["RM0.00", "A0 paper", "JM0517726", "0x1F", "3.0m", "S0 ON", "10.00", "0.79 1.04"]) expect(cleanText(text)).toBe(text);
  });

  it("reads a 1 between lowercase letters of a word with no other digit as l", () => {
    expect(cleanText("No.3, Jalan SS21/39,47400 Peta1ing Jaya")).toBe("No.3, Jalan SS21/39,47400 Petaling Jaya");
    expect(cleanText("Fi11ed")).toBe("Filled");
  });

  it("leaves ones that can be digits: codes with other digits, uppercase, word edges", () => {
    for (const text of ["a1b2c3", "TA1L", "abc1", "1ab", "Room 1a", "v1.2", "x11"]) expect(cleanText(text)).toBe(text);
  });
});
