import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OcrError } from "../src/errors.js";
import { comparePaths, hasSupportedExtension, readAll, resolveInputs, sniff, type Source } from "../src/inputs/index.js";
import { samples } from "./fixtures.js";

let root: string;
const names = (sources: Source[]) => sources.map((s) => s.name);

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "qwen-ocr-inputs-"));
  const png = await readFile(samples.receipt);
  const files: Record<string, Uint8Array | string> = {
    "scans/page10.png": png,
    "scans/page2.png": png,
    "scans/page1.PNG": png,
    "scans/cover.JPG": png,
    "scans/notes.txt": "not a page",
    "scans/.hidden.png": png,
    "scans/.cache/thumb.png": png,
    "scans/sub/b.pdf": "%PDF-1.4",
    "scans/sub/a.tiff": png,
    "docs/readme.md": "# nothing to OCR",
    "weird[1].png": png,
    "loose.pdf": "%PDF-1.4",
  };
  for (const [name, data] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), data);
  }
  await mkdir(path.join(root, "nothing"));
  await symlink(path.join(root, "scans/page2.png"), path.join(root, "link-to-page2.png"));
  await symlink(path.join(root, "scans"), path.join(root, "scans/cycle")); // scans/cycle/cycle/...
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("resolveInputs", () => {
  it("keeps a file as the user named it, with its absolute path", async () => {
    const { sources, errors } = await resolveInputs(["scans/page2.png"], { cwd: root });
    expect(errors).toEqual([]);
    expect(sources).toEqual([{ name: "scans/page2.png", path: path.join(root, "scans/page2.png") }]);
  });

  it("reports a missing file as not_found", async () => {
    const { sources, errors } = await resolveInputs(["nope.png"], { cwd: root });
    expect(sources).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.source).toBe("nope.png");
    expect(errors[0]!.error).toBeInstanceOf(OcrError);
    expect(errors[0]!.error.code).toBe("not_found");
    expect(errors[0]!.error.message).toBe("no such file");
  });

  it("walks a directory recursively: supported extensions only, any case, no hidden files, natural order, each file once despite a symlink cycle", async () => {
    const { sources, errors } = await resolveInputs(["scans"], { cwd: root });
    expect(errors).toEqual([]);
    expect(names(sources)).toEqual([
      "scans/cover.JPG",
      "scans/page1.PNG",
      "scans/page2.png",
      "scans/page10.png",
      "scans/sub/a.tiff",
      "scans/sub/b.pdf",
    ]);
    for (const s of sources) expect(path.isAbsolute(s.path!)).toBe(true);
  });

  it("fails a directory without supported files", async () => {
    for (const dir of ["docs", "nothing"]) {
      const { sources, errors } = await resolveInputs([dir], { cwd: root });
      expect(sources).toEqual([]);
      expect(errors[0]!.error.code).toBe("not_found");
      expect(errors[0]!.error.message).toMatch(/no supported files/);
    }
  });

  it("expands a quoted glob, sorted by path, names relative to cwd", async () => {
    const { sources, errors } = await resolveInputs(["scans/**/*.{png,pdf}"], { cwd: root });
    expect(errors).toEqual([]);
    expect(names(sources)).toEqual(["scans/page2.png", "scans/page10.png", "scans/sub/b.pdf"]);
  });

  it("names files from a glob relative to cwd even when the glob climbs out of it", async () => {
    const { sources } = await resolveInputs(["../scans/page1*"], { cwd: path.join(root, "docs") });
    expect(names(sources)).toEqual(["../scans/page1.PNG", "../scans/page10.png"]);
  });

  it("keeps absolute names for an absolute glob or directory", async () => {
    const { sources } = await resolveInputs([path.join(root, "scans/sub/*")], { cwd: "/" });
    expect(names(sources)).toEqual([path.join(root, "scans/sub/a.tiff"), path.join(root, "scans/sub/b.pdf")]);
    const dir = await resolveInputs([path.join(root, "scans/sub")], { cwd: "/" });
    expect(names(dir.sources)).toEqual(names(sources));
  });

  it("includes whatever a glob matches, as the shell would (bytes decide later)", async () => {
    const { sources } = await resolveInputs(["scans/*.txt"], { cwd: root });
    expect(names(sources)).toEqual(["scans/notes.txt"]);
  });

  it("reports a glob that matches nothing as not_found", async () => {
    const { sources, errors } = await resolveInputs(["scans/*.webp"], { cwd: root });
    expect(sources).toEqual([]);
    expect(errors[0]!.error.code).toBe("not_found");
    expect(errors[0]!.error.message).toBe("no files match");
  });

  it("treats an existing file with glob characters in its name as a file", async () => {
    const { sources, errors } = await resolveInputs(["weird[1].png"], { cwd: root });
    expect(errors).toEqual([]);
    expect(names(sources)).toEqual(["weird[1].png"]);
  });

  it("de-duplicates by path, symlinks included, the first occurrence winning, in argument order", async () => {
    const { sources, items, errors } = await resolveInputs(
      ["loose.pdf", "scans/page2.png", "missing.png", "scans/*.png", "./loose.pdf", "link-to-page2.png", path.join(root, "loose.pdf")],
      { cwd: root },
    );
    expect(names(sources)).toEqual(["loose.pdf", "scans/page2.png", "scans/page10.png"]);
    expect(errors.map((e) => e.source)).toEqual(["missing.png"]);
    // items keep the failure in its place among the sources
    expect(items.map((i) => ("error" in i ? `!${i.name}` : i.name))).toEqual([
      "loose.pdf",
      "scans/page2.png",
      "!missing.png",
      "scans/page10.png",
    ]);
  });

  it("reads '-' from stdin once, lazily and memoised, however often it is named", async () => {
    const bytes = Buffer.from("%PDF-1.7 stdin bytes");
    let reads = 0;
    const stdin = Readable.from(
      (function* () {
        reads++;
        yield bytes.subarray(0, 5);
        yield bytes.subarray(5);
      })(),
    );
    const { sources, errors } = await resolveInputs(["-", "loose.pdf", "-"], { cwd: root, stdin });
    expect(errors).toEqual([]);
    expect(names(sources)).toEqual(["-", "loose.pdf"]);
    expect(sources[0]!.path).toBeUndefined();
    expect(reads).toBe(0);
    expect(await sources[0]!.read!()).toEqual(bytes);
    expect(await sources[0]!.read!()).toEqual(bytes);
    expect(reads).toBe(1);
  });

  it("refuses '-' when stdin is a terminal", async () => {
    const tty = Object.assign(Readable.from([]), { isTTY: true });
    const { sources, errors } = await resolveInputs(["-"], { stdin: tty });
    expect(sources).toEqual([]);
    expect(errors[0]!.error.code).toBe("unreadable");
  });

  it("fails stdin larger than the limit with too_large", async () => {
    const stdin = Readable.from([Buffer.alloc(600), Buffer.alloc(600)]);
    await expect(readAll(stdin, 1000)).rejects.toMatchObject({ code: "too_large" });
  });

  it("reports an empty argument instead of reading the current directory", async () => {
    const { sources, errors } = await resolveInputs([""], { cwd: root });
    expect(sources).toEqual([]);
    expect(errors[0]!.error.code).toBe("not_found");
  });
});

describe("helpers", () => {
  it("knows the supported extensions, case-insensitively", () => {
    for (const f of ["a.pdf", "a.PNG", "a.jpeg", "a.JPG", "a.tif", "a.tiff", "a.webp", "a.gif", "a.bmp", "a.avif"]) {
      expect(hasSupportedExtension(f), f).toBe(true);
    }
    for (const f of ["a.txt", "a.svg", "a.heic", "pdf", "a.pdf.gz"]) expect(hasSupportedExtension(f), f).toBe(false);
  });

  it("sorts paths naturally", () => {
    expect(["p10.png", "p2.png", "p1.png", "a/p1.png"].sort(comparePaths)).toEqual(["a/p1.png", "p1.png", "p2.png", "p10.png"]);
  });
});

describe("sniff", () => {
  it("recognises PDFs and images by their bytes", async () => {
    expect(await sniff(await readFile(samples.letter))).toEqual({ kind: "pdf", mime: "application/pdf" });
    expect(await sniff(Buffer.from("garbage\n%PDF-1.4\n"))).toMatchObject({ kind: "pdf" });
    expect(await sniff((await readFile(samples.receipt)).subarray(0, 4100))).toEqual({
      kind: "image",
      mime: "image/png",
      format: "png",
    });
  });

  it("recognises a TIFF whose first IFD lies past the sniffed head", async () => {
    const head = Buffer.alloc(4100);
    head.write("II", 0, "latin1");
    head.writeUInt16LE(42, 2);
    head.writeUInt32LE(1_000_000, 4);
    expect(await sniff(head)).toMatchObject({ kind: "image", format: "tiff" });
  });

  it("names what it found when it is not an image or PDF", async () => {
    expect(await sniff(Buffer.from("hello\nworld\n"))).toEqual({ kind: "unsupported", mime: "text/plain" });
    expect(await sniff(Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'/>"))).toMatchObject({ mime: "image/svg+xml" });
    expect(await sniff(Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 0, 0]))).toEqual({
      kind: "unsupported",
      mime: "application/octet-stream",
    });
    expect(await sniff(Buffer.from("PK\x03\x04\x14\x00\x00\x00\x08\x00", "latin1"))).toMatchObject({ kind: "unsupported" });
    expect(await sniff(Buffer.alloc(0))).toEqual({ kind: "unsupported", mime: "inode/x-empty" });
  });
});
