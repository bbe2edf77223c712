import { describe, it, expect } from "vitest";
import { niceStep, linearTicks, symlog, shouldUseLog, logTicks, makeScale, formatTick } from "../scales.js";

// Pythia's training stages: step0, 1, 2, 4 ... 512, then every 1,000 (a sample) to 143000.
const PYTHIA = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000, 3000, 13000, 23000, 33000, 143000];

describe("linear ticks", () => {
  it("uses steps of 1, 2, 2.5 or 5 times a power of ten", () => {
    expect(niceStep(1, 5)).toBe(0.2);
    expect(niceStep(30, 6)).toBe(5);
    expect(niceStep(0.12, 5)).toBeCloseTo(0.025);
    expect(niceStep(0, 5)).toBe(1);
  });
  it("covers the data with whole steps and prints clean values", () => {
    const { domain, ticks } = linearTicks(0.1023, 0.9722, 5);
    expect(domain[0]).toBeLessThanOrEqual(0.1023);
    expect(domain[1]).toBeGreaterThanOrEqual(0.9722);
    expect(ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(linearTicks(0, 30, 6).ticks).toEqual([0, 5, 10, 15, 20, 25, 30]);
  });
  it("gives a flat series a band around its value", () => {
    const { domain, ticks } = linearTicks(0.5, 0.5);
    expect(domain[0]).toBeLessThan(0.5);
    expect(domain[1]).toBeGreaterThan(0.5);
    expect(ticks.length).toBeGreaterThan(1);
  });
  it("survives swapped and non-finite bounds", () => {
    expect(linearTicks(10, 0).domain).toEqual([0, 10]);
    expect(linearTicks(NaN, 1).ticks).toEqual([0, 0.5, 1]);
  });
});

describe("log step axis", () => {
  it("is chosen when steps span two decades or more", () => {
    expect(shouldUseLog(PYTHIA)).toBe(true);
    expect(shouldUseLog([0, 1, 2, 3, 5, 8, 12, 20, 30])).toBe(false); // digits epochs
    expect(shouldUseLog([100, 200, 300])).toBe(false);
    expect(shouldUseLog([-5, 1000])).toBe(false);
    expect(shouldUseLog([0])).toBe(false);
  });
  it("puts step 0 at the axis start and spaces decades evenly (log10(1 + x))", () => {
    expect(symlog(0)).toBe(0);
    expect(symlog(9)).toBeCloseTo(1);
    expect(symlog(-9)).toBeCloseTo(-1);
    const s = makeScale(PYTHIA, [0, 500], { kind: "log" });
    expect(s.map(0)).toBe(0);
    expect(s.map(143000)).toBeCloseTo(500);
    const d1 = s.map(1000) - s.map(100);
    const d2 = s.map(10000) - s.map(1000);
    expect(Math.abs(d1 - d2)).toBeLessThan(1);
    // On a linear scale the first 12 stages share less than 0.5% of the width; on the log scale, about half.
    const lin = makeScale(PYTHIA, [0, 500], { nice: false });
    expect(lin.map(512)).toBeLessThan(2.5);
    expect(s.map(512)).toBeGreaterThan(200);
  });
  it("ticks 0, the powers of ten and the last step", () => {
    expect(logTicks(0, 143000)).toEqual([0, 1, 10, 100, 1000, 10000, 100000]); // 143000 is too close to 100000
    expect(logTicks(0, 100000)).toEqual([0, 1, 10, 100, 1000, 10000, 100000]);
    expect(logTicks(10, 500)).toEqual([10, 20, 50, 100, 200, 500]);
  });
  it("labels ticks shortly", () => {
    expect(PYTHIA.slice(-3).map(formatTick)).toEqual(["23k", "33k", "143k"]);
    expect([0, 1, 0.25, 2500000, 1e10].map(formatTick)).toEqual(["0", "1", "0.25", "2.5M", "10G"]);
    expect(formatTick(NaN)).toBe("");
  });
});

describe("makeScale", () => {
  it("maps the nice domain onto the pixel range, inverted for y", () => {
    const y = makeScale([0.2, 0.9], [200, 10]);
    expect(y.domain).toEqual([0.2, 1]); // widened to whole steps of 0.2
    expect(y.map(0.2)).toBe(200);
    expect(y.map(1)).toBeCloseTo(10);
    expect(y.map(0.6)).toBeCloseTo(105);
    const flat = makeScale([5, 5], [0, 100], { nice: false });
    expect(flat.map(5)).toBeCloseTo(50);
  });
});

describe("values at float64's end (±1e308: hostile zoos, issue 17)", () => {
  it("keep finite ticks, domain and pixels (hi - lo overflows)", () => {
    const { domain, ticks } = linearTicks(-1e308, 1e308, 5);
    expect(domain.every(Number.isFinite)).toBe(true);
    expect(domain[0]).toBeLessThanOrEqual(-1e308);
    expect(domain[1]).toBeGreaterThanOrEqual(1e308);
    expect(ticks.length).toBeGreaterThan(1);
    expect(ticks.every(Number.isFinite)).toBe(true);
    const s = makeScale([-1e308, 0, 1e308], [300, 0]);
    for (const v of [-1e308, 0, 1e308]) expect(Number.isFinite(s.map(v))).toBe(true);
    expect(s.map(-1e308)).toBeGreaterThan(s.map(0));
    expect(s.map(0)).toBeGreaterThan(s.map(1e308));
  });
  it("give a flat series at the largest double a finite band", () => {
    const s = makeScale([Number.MAX_VALUE, Number.MAX_VALUE], [300, 0]);
    expect(s.domain.every(Number.isFinite)).toBe(true);
    expect(Number.isFinite(s.map(Number.MAX_VALUE))).toBe(true);
  });
});
