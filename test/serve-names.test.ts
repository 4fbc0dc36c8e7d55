/** The client's file name as the service shows it (never used as a path). */
import { describe, expect, it } from "vitest";
import { displayName } from "../src/serve/options.js";

describe("displayName", () => {
  it("keeps the last path segment, without control characters or bidirectional overrides", () => {
    expect(displayName("../../etc/passwd")).toBe("passwd");
    expect(displayName("C:\\scans\\invoice.pdf")).toBe("invoice.pdf");
    expect(displayName("invoice\u202Efdp.exe")).toBe("invoicefdp.exe");
    expect(displayName("a\u0000b\nc.png")).toBe("abc.png");
  });

  it("keeps joiners, which Persian words and emoji need", () => {
    expect(displayName("می\u200Cخواهم.png")).toBe("می\u200Cخواهم.png");
    expect(displayName("👩\u200D💻.jpg")).toBe("👩\u200D💻.jpg");
  });

  it("falls back to 'upload' when nothing is left, and cuts at 200 characters", () => {
    expect(displayName(undefined)).toBe("upload");
    expect(displayName("../")).toBe("upload");
    expect(displayName("\u202E")).toBe("upload");
    expect([...displayName("字".repeat(300))]).toHaveLength(200);
  });
});
