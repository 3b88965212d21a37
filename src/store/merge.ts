import type { Source } from "./block-source.js";

/** Where merged points go: the wire encoder, or the object builder for JSON clients. */
export interface PointSink {
  /**
   * The following points belong to this series. `named` carries its name and labels the
   * first time a series starts in a read (read-values.ts adds it; the merger passes ids).
   */
  startSeries(seriesId: string, named?: SeriesName): void;
  /** Points [from, to) of one source, in order. */
  range(src: Source, from: number, to: number): void;
}

/** A series' name and labels, sent once per series in a read. */
export interface SeriesName {
  name: string;
  labels: Record<string, string>;
}

/**
 * How versions of one (series, valid time) become output:
 * - "latest": the newest version (known time, then change time, then run id);
 * - "vintages": per run (known time, run id) its newest correction, oldest run first;
 * - "corrections": every version, oldest first.
 */
export type MergeRule = "latest" | "vintages" | "corrections";

/**
 * Merges the blocks of each series into valid-time order, resolving versions by `rule`.
 *
 * Sources arrive ordered by (series, first valid time). A sweep holds the "active"
 * sources; the next source's first time is the frontier: no later source can hold a time
 * before it, so every time below it is final and can be emitted. One active source (the
 * common case: one run, blocks end to end) is emitted as a whole range; where several
 * overlap, each valid time is resolved among the few sources that hold it. Memory is the
 * blocks that overlap, however long the read.
 *
 * `push` sources as they are parsed, then `run(false)` to emit what is final; `run(true)`
 * once the stream has ended.
 */
export class BlockMerger {
  private readonly queue: Source[] = [];
  private queueHead = 0;
  /** Sources with points left to emit (exhausted ones are dropped at once), in version order. */
  private active: Source[] = [];
  private seriesHi = Number.NaN;
  private seriesLo = Number.NaN;
  private seriesRule: MergeRule;
  /** Per-point steps before newestCovers() is tried again, and the current wait. */
  private skipUntil = 0;
  private skipBackoff = 1;
  /** The smallest head, as set by minHead(). */
  private headHi = 0;
  private headLo = 0;

  /**
   * @param ruleFor the rule for a series (ALL_VINTAGES treats ACTUAL series as "latest").
   * @param window valid-time window [start, end) in µs, clipped within blocks.
   */
  constructor(
    private readonly sink: PointSink,
    private readonly ruleFor: (seriesId: string) => MergeRule,
    private readonly window: { start: bigint | undefined; end: bigint | undefined },
  ) {
    this.seriesRule = "latest";
  }

  push(src: Source): void {
    this.queue.push(src);
  }

  run(final: boolean): void {
    for (;;) {
      let next = this.peek();
      if (this.active.length === 0) {
        if (!next) break;
        if (next.seriesHi !== this.seriesHi || next.seriesLo !== this.seriesLo) {
          this.seriesHi = next.seriesHi;
          this.seriesLo = next.seriesLo;
          this.seriesRule = this.ruleFor(next.seriesId);
          this.sink.startSeries(next.seriesId);
        }
      }
      // Load every source of this series that starts at or before the smallest head.
      while (next && this.sameSeries(next) && (this.active.length === 0 || this.startsByHead(next))) {
        this.queueHead++;
        next.clip(this.window.start, this.window.end);
        if (next.pos < next.end) this.activate(next);
        next = this.peek();
      }
      // Without the next source the frontier is unknown: wait for more, unless at the end.
      if (!next && !final) break;
      if (this.active.length === 0) continue;
      const frontier = next && this.sameSeries(next) ? next : undefined;
      this.emitBelow(frontier);
      if (this.active.length === 0 && !next) break;
    }
    // Drop consumed sources from the queue now and then (it holds one network chunk's rows).
    if (this.queueHead > 64) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  private peek(): Source | undefined {
    return this.queue[this.queueHead];
  }

  private sameSeries(s: Source): boolean {
    return s.seriesHi === this.seriesHi && s.seriesLo === this.seriesLo;
  }

  /** True when `s` starts at or before the smallest head of the active sources. */
  private startsByHead(s: Source): boolean {
    this.minHead();
    return s.firstHi < this.headHi || (s.firstHi === this.headHi && s.firstLo <= this.headLo);
  }

  /** Sets headHi/headLo to the smallest head (next valid time) of the active sources. */
  private minHead(): void {
    let h = Number.POSITIVE_INFINITY;
    let l = 0;
    for (const s of this.active) {
      const sh = s.hi(s.pos);
      if (sh < h || (sh === h && s.lo(s.pos) < l)) {
        h = sh;
        l = s.lo(s.pos);
      }
    }
    this.headHi = h;
    this.headLo = l;
  }

  /**
   * LATEST's shortcut for runs on one time grid (forecasts re-issued over the same hours):
   * when the newest active source holds the smallest head and every other source's points
   * up to the newest one's last point (before the frontier) are among its times, those are
   * all superseded: the newest source's range is emitted at once and the others skip it.
   * Byte comparisons of the packed times decide (native memcmp, no per-point work).
   * Returns false, changing nothing, when that does not hold.
   */
  private newestCovers(frontier: Source | undefined): boolean {
    const active = this.active;
    const top = active[0] as Source;
    if (top.hi(top.pos) !== this.headHi || top.lo(top.pos) !== this.headLo) return false;
    const e = frontier ? top.lowerBound(frontier.firstHi, frontier.firstLo, top.pos, top.end) : top.end;
    if (e - top.pos < 16) return false;
    // The first time after the newest source's last one in range, as halves.
    const lastHi = top.hi(e - 1);
    const lastLo = top.lo(e - 1);
    const afterHi = lastLo === 0xffffffff ? lastHi + 1 : lastHi;
    const afterLo = lastLo === 0xffffffff ? 0 : lastLo + 1;
    const ends: number[] = [];
    for (let k = 1; k < active.length; k++) {
      const s = active[k] as Source;
      const se = s.lowerBound(afterHi, afterLo, s.pos, s.end);
      const count = se - s.pos;
      ends.push(se);
      if (count === 0) continue;
      const c = top.lowerBound(s.hi(s.pos), s.lo(s.pos), top.pos, e);
      if (c + count > e) return false;
      if (s.times.compare(top.times, 8 * c, 8 * (c + count), 8 * s.pos, 8 * se) !== 0) return false;
    }
    this.sink.range(top, top.pos, e);
    top.pos = e;
    for (let k = 1; k < active.length; k++) (active[k] as Source).pos = ends[k - 1] as number;
    this.active = active.filter((x) => x.pos < x.end);
    return true;
  }

  /** Adds a source to the active ones, kept in the order the series' rule emits versions in. */
  private activate(s: Source): void {
    const order = versionOrder[this.seriesRule];
    let i = this.active.length;
    while (i > 0 && order(this.active[i - 1] as Source, s) > 0) i--;
    this.active.splice(i, 0, s);
  }

  /** Emits every point before the frontier's first time (all of them without a frontier). */
  private emitBelow(frontier: Source | undefined): void {
    const rule = this.seriesRule;
    for (;;) {
      const active = this.active;
      if (active.length === 0) return;
      if (active.length === 1) {
        const s = active[0] as Source;
        const to = frontier ? s.lowerBound(frontier.firstHi, frontier.firstLo, s.pos, s.end) : s.end;
        if (to > s.pos) this.sink.range(s, s.pos, to);
        s.pos = to;
        if (s.pos >= s.end) this.active = [];
        return;
      }
      this.minHead();
      const h = this.headHi;
      const l = this.headLo;
      if (frontier && (h > frontier.firstHi || (h === frontier.firstHi && l >= frontier.firstLo))) return;
      if (rule === "latest" && this.skipUntil-- <= 0) {
        if (this.newestCovers(frontier)) {
          this.skipBackoff = 1;
          continue;
        }
        // Not on one grid here: try again after a while (doubling), so a mismatch costs little.
        this.skipBackoff = Math.min(1024, this.skipBackoff * 2);
        this.skipUntil = this.skipBackoff;
      }
      // The sources holding this valid time, in the rule's version order (active's order).
      let previous: Source | undefined;
      let exhausted = false;
      for (const s of active) {
        if (s.hi(s.pos) !== h || s.lo(s.pos) !== l) continue;
        if (rule === "corrections") this.sink.range(s, s.pos, s.pos + 1);
        else if (rule === "latest") {
          if (!previous) this.sink.range(s, s.pos, s.pos + 1);
        } else if (!previous || previous.knownUs !== s.knownUs || previous.runId !== s.runId) {
          // "vintages": sources are ordered by (known, run, newest change first): the
          // first of each (known, run) group is its newest correction.
          this.sink.range(s, s.pos, s.pos + 1);
        }
        previous = s;
        s.pos++;
        if (s.pos >= s.end) exhausted = true;
      }
      if (exhausted) this.active = active.filter((s) => s.pos < s.end);
    }
  }
}

const cmp = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

/** For each rule, the order its versions of one valid time are considered in. */
const versionOrder: Record<MergeRule, (a: Source, b: Source) => number> = {
  latest: (a, b) => cmp(b.knownUs, a.knownUs) || cmp(b.changeUs, a.changeUs) || cmp(b.runId, a.runId),
  vintages: (a, b) => cmp(a.knownUs, b.knownUs) || cmp(a.runId, b.runId) || cmp(b.changeUs, a.changeUs),
  corrections: (a, b) => cmp(a.knownUs, b.knownUs) || cmp(a.changeUs, b.changeUs) || cmp(a.runId, b.runId),
};
