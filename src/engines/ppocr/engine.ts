/**
 * The ppocr engine: detection → page orientation → direction classification → recognition →
 * layout, on PP-OCRv4 models driven directly through onnxruntime-node.
 */
import { OcrError } from "../../errors.js";
import type { BBox, Engine, EngineInfo, EngineResult, Line, Page, RecognizeOptions, RgbImage } from "../../types.js";
import { classify } from "./classify.js";
import type { Decoded } from "./ctc.js";
import { DEFAULT_DB_PARAMS, type DbParams } from "./db.js";
import { detectionInput, detectResized } from "./detect.js";
import {
  centredBounds,
  minAreaRect,
  padQuad,
  quadBounds,
  quadSize,
  rectCorners,
  skewAngle,
  turnQuad,
  type Quad,
} from "./geometry.js";
import { rotateImage, unrotatePoint } from "./image.js";
import { freeMargins, layoutPage, touchingGroups, type Box, type Margins } from "./layout.js";
import type { RecognitionLanes } from "./lanes.js";
import type { Model, ModelClock, Runtime } from "./models.js";
import { boxShape, flippedShare, FLIP_PAGE_SHARE, isSideways, rotateQuad, sidewaysRotation, type Vote } from "./orientation.js";
import { recognizeQuad } from "./recognize.js";
import { dropRedInk, hasRedInk, separateRedLines } from "./red-ink.js";
import { Scratch } from "./scratch.js";
import { cleanText } from "./text.js";

export interface PpocrSettings {
  /** Long-side limit of the detector input (PaddleOCR det_limit_side_len). */
  detMaxSide: number;
  /** Pixel-count limit of the detector input. */
  detMaxPixels: number;
  /** Recognitions below this mean confidence are dropped (PaddleOCR drop_score). */
  dropScore: number;
  /** Classifier confidence above which a line is also read upside down, keeping the better reading. */
  flipScore: number;
  /** Merge boxes the detector split inside one line before recognising them. */
  mergeTouching: boolean;
  /** DB post-processing (thresholds, unclip ratio). */
  db: DbParams;
  /** Margin added around each crop before recognition, as fractions of the box height. */
  padX: number;
  padY: number;
  recMinWidth: number;
  recExtra: number;
  /** Drop red ink (stamps) out of pages that carry it, keeping lines printed in red (red-ink.ts). */
  dropRed: boolean;
}

export const DEFAULT_SETTINGS: PpocrSettings = {
  detMaxSide: 960,
  detMaxPixels: Infinity,
  dropScore: 0.5,
  flipScore: 0.9,
  mergeTouching: true,
  db: DEFAULT_DB_PARAMS,
  padX: 0.2,
  padY: 0.2,
  recMinWidth: 0,
  recExtra: 0,
  dropRed: true,
};

/** Most vertical boxes classified to tell 90° from 270°. */
const SIDEWAYS_SAMPLE = 16;

export interface PpocrModels {
  runtime: Runtime;
  detection: Model;
  /** The direction classifier and the recogniser, on the main thread and the worker lanes. */
  recognition: RecognitionLanes;
  characters: string[];
  clock: ModelClock;
}

/** How a line's crop is read on a page with red ink: with it dropped out, as it is, or as red text. */
type Reading = "dropout" | "plain" | "red";

interface Segment {
  /** Corners in reading order on the working (upright) page. */
  quad: Quad;
  flipped: number;
  /** Read turned 90° (a vertical box): its axes are not the page's. */
  turned: boolean;
  /** How red ink is treated in its crop (red-ink.ts). */
  reading: Reading;
  text: string;
  confidence: number;
  box: Box;
}

export class PpocrEngine implements Engine {
  readonly info: EngineInfo;
  readonly loadMs: number;
  private models: PpocrModels | undefined;
  private readonly settings: PpocrSettings;
  /** The detector's input tensor, reused from page to page (scratch.ts). */
  private readonly detectorInput = new Scratch();

  constructor(models: PpocrModels, loadMs: number, info: EngineInfo, settings: PpocrSettings = DEFAULT_SETTINGS) {
    this.models = models;
    this.loadMs = loadMs;
    this.info = info;
    this.settings = settings;
  }

  async close(): Promise<void> {
    const m = this.models;
    this.models = undefined;
    if (!m) return;
    await Promise.allSettled([m.detection.session.release(), m.recognition.close()]);
  }

  async recognize(page: Page, options: RecognizeOptions = {}): Promise<EngineResult> {
    const m = this.models;
    if (!m) throw new OcrError("engine_failed", "the ppocr engine was closed");
    const { signal } = options;
    const original = page.image;
    if (original.data.length !== original.width * original.height * 3 || original.width < 1 || original.height < 1) {
      throw new OcrError("engine_failed", `page bitmap is not ${original.width}×${original.height} RGB`);
    }
    const s = this.settings;
    const timings = { detectMs: 0, classifyMs: 0, recognizeMs: 0, layoutMs: 0, modelMs: 0 };
    const modelMs = () => m.clock.busyMs;
    const modelStart = modelMs();
    const timed = async <T>(key: keyof typeof timings, work: () => Promise<T> | T): Promise<T> => {
      const t = performance.now();
      try {
        return await work();
      } finally {
        timings[key] += performance.now() - t;
      }
    };
    const warnings: string[] = [];
    signal?.throwIfAborted();

    const findLines = (page: RgbImage) => timed("detectMs", () => this.findLines(page, signal));
    let { quads, reading } = await findLines(original);

    let image: RgbImage = original;
    let rotation = 0;

    // A page on its side: tell 90° from 270° with the classifier, then detect again upright.
    if (quads.length && isSideways(quads)) {
      signal?.throwIfAborted();
      const vertical = quads
        .filter((q) => boxShape(q) === "vertical")
        .sort((a, b) => quadSize(b).height - quadSize(a).height)
        .slice(0, SIDEWAYS_SAMPLE);
      const dirs = await timed("classifyMs", () =>
        classify(m.recognition, original, vertical.map((q) => turnQuad(q, 1)), signal),
      );
      const turn = sidewaysRotation(dirs.map((d, i) => ({ flipped: d.flipped, weight: quadSize(vertical[i]).height })));
      const turned = rotateImage(original, turn);
      const again = await findLines(turned);
      if (again.quads.length && !isSideways(again.quads)) {
        image = turned;
        rotation = turn;
        ({ quads, reading } = again);
      }
    }
    if (!quads.length) {
      timings.modelMs = modelMs() - modelStart;
      return this.result([], [], timings, warnings, rotation);
    }

    // Crops in reading order: tall boxes are read turned 90° counter-clockwise, as PaddleOCR does.
    let crops = quads.map((q) => (boxShape(q) === "vertical" ? turnQuad(q, 1) : q));
    signal?.throwIfAborted();
    let dirs = await timed("classifyMs", () => classify(m.recognition, image, crops, signal));

    // An upside-down page: most lines read as flipped.
    if (rotation === 0) {
      const votes: Vote[] = [];
      crops.forEach((q, i) => {
        if (boxShape(quads[i]) === "horizontal") votes.push({ flipped: dirs[i].flipped, weight: quadSize(q).width });
      });
      if (votes.length && flippedShare(votes) > FLIP_PAGE_SHARE) {
        const { width, height } = original;
        rotation = 180;
        image = rotateImage(original, 180);
        quads = quads.map((q) => rotateQuad(q, 180, width, height));
        crops = crops.map((q) => rotateQuad(q, 180, width, height));
        dirs = dirs.map((d) => ({ flipped: 1 - d.flipped }));
      }
    }

    // Layout frame: the page de-skewed by its dominant line angle, each box at its own size.
    const angle = skewAngle(quads);
    const cx = image.width / 2;
    const cy = image.height / 2;
    const frame = (q: Quad): Box => centredBounds(q, angle, cx, cy);

    // Boxes the detector split inside one line are recognised as one crop.
    let segments: Segment[] = crops.map((quad, i) => ({
      quad,
      flipped: dirs[i].flipped,
      turned: boxShape(quads[i]) === "vertical",
      reading: reading[i],
      text: "",
      confidence: 0,
      box: frame(quads[i]),
    }));
    if (s.mergeTouching) {
      const horizontal = segments.map((_, i) => boxShape(quads[i]) !== "vertical");
      const merged: Segment[] = segments.filter((_, i) => !horizontal[i]);
      // A line printed in red is not merged with one read with red ink dropped out, which would erase it.
      const groups = [true, false].flatMap((red) => {
        const ids = segments.map((_, i) => i).filter((i) => horizontal[i] && (segments[i].reading === "red") === red);
        return touchingGroups(ids.map((i) => segments[i].box)).map((g) => g.map((k) => ids[k]));
      });
      for (const g of groups) {
        const members = g.map((k) => segments[k]);
        if (members.length === 1) {
          merged.push(members[0]);
          continue;
        }
        const quad = rectCorners(minAreaRect(members.flatMap((seg) => seg.quad)));
        const weight = members.map((seg) => quadSize(seg.quad).width);
        const total = weight.reduce((a, b) => a + b, 0);
        const flipped = members.reduce((a, seg, k) => a + seg.flipped * weight[k], 0) / Math.max(1e-9, total);
        const read: Reading = members.some((seg) => seg.reading === "dropout") ? "dropout" : members[0].reading;
        merged.push({ quad, flipped, turned: false, reading: read, text: "", confidence: 0, box: frame(quad) });
      }
      segments = merged;
    }

    // Recognition, one crop per run, as many at once as there are lanes; lines the classifier
    // doubts are also read upside down.
    const margins = freeMargins(segments.map((seg) => seg.box));
    const pad = { minWidth: s.recMinWidth, extra: s.recExtra };
    await timed("recognizeMs", async () => {
      // Widest crops first, so that no lane is left with a long line while the others idle.
      const aspect = segments.map((seg) => {
        const { width, height } = quadSize(seg.quad);
        return width / Math.max(1, height);
      });
      const order = segments.map((_, k) => k).sort((a, b) => aspect[b] - aspect[a]);
      let next = 0;
      let failed = false;
      const lane = async () => {
        while (!failed && next < order.length) {
          const k = order[next++];
          const seg = segments[k];
          try {
            signal?.throwIfAborted();
            const quad = cropQuad(seg, margins[k], s);
            let best: Decoded = await recognizeQuad(m.recognition, image, quad, m.characters, pad, seg.reading === "dropout");
            if (seg.flipped > s.flipScore) {
              const flipped = await recognizeQuad(m.recognition, image, turnQuad(quad, 2), m.characters, pad, seg.reading === "dropout");
              if (flipped.confidence > best.confidence) best = flipped;
            }
            seg.text = cleanText(best.text).trim();
            seg.confidence = best.confidence;
          } catch (error) {
            failed = true;
            throw error;
          }
        }
      };
      await Promise.all(Array.from({ length: m.recognition.size }, lane));
    });
    signal?.throwIfAborted();

    const kept = segments.filter((seg) => seg.text && seg.confidence >= s.dropScore);
    const { lines, blocks } = await timed("layoutMs", () => {
      const ordered = layoutPage(kept.map((seg) => ({ ...seg.box, value: isValue(seg.text) })));
      const toOriginal = (q: Quad): BBox => {
        const pts = q.map((p) => unrotatePoint(p, rotation, original.width, original.height));
        const b = quadBounds(pts as Quad);
        const clamp = (v: number, hi: number) => Math.min(hi, Math.max(0, Math.round(v)));
        return [clamp(b.left, original.width), clamp(b.top, original.height), clamp(b.right, original.width), clamp(b.bottom, original.height)];
      };
      const outLines: Line[][] = ordered.map((block) =>
        block.lines.map((line) => {
          const parts = line.boxes.map((k) => kept[k]);
          const text = parts.map((p) => p.text).join(" ");
          const chars = parts.reduce((a, p) => a + p.text.length, 0);
          const confidence = parts.reduce((a, p) => a + p.confidence * p.text.length, 0) / Math.max(1, chars);
          const boxes = parts.map((p) => toOriginal(p.quad));
          const bbox: BBox = [
            Math.min(...boxes.map((b) => b[0])),
            Math.min(...boxes.map((b) => b[1])),
            Math.max(...boxes.map((b) => b[2])),
            Math.max(...boxes.map((b) => b[3])),
          ];
          return { text, bbox, confidence: Math.round(confidence * 1e4) / 1e4 };
        }),
      );
      return { lines: outLines.flat(), blocks: outLines };
    });
    timings.modelMs = modelMs() - modelStart;
    return this.result(lines, blocks, timings, warnings, rotation);
  }

  /**
   * The page's text lines, and for each whether it is read with red ink dropped out. On a page
   * with red ink the detector also sees it dropped out (its downscaled input, so nothing the size
   * of the page is copied): a stamp no longer hides the lines it crosses, and those lines are read
   * without it; lines printed in red are kept and read as printed (red-ink.ts).
   */
  private async findLines(page: RgbImage, signal?: AbortSignal): Promise<{ quads: Quad[]; reading: Reading[] }> {
    const m = this.models;
    if (!m) throw new OcrError("engine_failed", "the ppocr engine was closed");
    const s = this.settings;
    const input = await detectionInput(page, { maxSide: s.detMaxSide, maxPixels: s.detMaxPixels });
    const found = (await detectResized(m.runtime, m.detection, input, page.width, page.height, s.db, this.detectorInput)).boxes.map((b) => b.quad);
    if (!s.dropRed || !found.length || !hasRedInk(page)) return { quads: found, reading: found.map(() => "plain" as const) };
    signal?.throwIfAborted();
    const after = (await detectResized(m.runtime, m.detection, dropRedInk(input), page.width, page.height, s.db, this.detectorInput)).boxes.map((b) => b.quad);
    const lines = separateRedLines(page, found, after);
    return {
      quads: [...lines.dropout, ...lines.plain, ...lines.red],
      reading: [...lines.dropout.map(() => "dropout" as const), ...lines.plain.map(() => "plain" as const), ...lines.red.map(() => "red" as const)],
    };
  }

  private result(
    lines: Line[],
    blocks: Line[][],
    timings: Record<string, number>,
    warnings: string[],
    rotation: number,
  ): EngineResult {
    const text = blocks.map((b) => b.map((l) => l.text).join("\n")).join("\n\n");
    const rounded: Record<string, number> = {};
    for (const [k, v] of Object.entries(timings)) rounded[k] = Math.round(v * 10) / 10;
    return { text, lines, finish: "stop", timings: rounded, warnings, rotation };
  }
}

/** Digits with at most a unit or currency code ("51.16", "RM10.00", "12 ct", "2025-03-14"): a value, not words. */
function isValue(text: string): boolean {
  return /\p{Nd}/u.test(text) && (text.match(/\p{L}/gu)?.length ?? 0) <= 3;
}

/**
 * The region read for a segment: its box grown into the free space around it (up to
 * `padX`/`padY` × its height, and at most half the gap to a neighbour), so that punctuation on
 * the box's edge, like a line's trailing comma, is inside the crop.
 */
function cropQuad(seg: Segment, free: Margins, s: PpocrSettings): Quad {
  if (seg.turned) return seg.quad;
  const h = quadSize(seg.quad).height;
  return padQuad(seg.quad, {
    left: Math.min(s.padX * h, free.left / 2),
    right: Math.min(s.padX * h, free.right / 2),
    top: Math.min(s.padY * h, free.top / 2),
    bottom: Math.min(s.padY * h, free.bottom / 2),
  });
}
