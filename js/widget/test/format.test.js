import { describe, it, expect, vi } from "vitest";
import { formatCount, formatMetric, formatBytes, formatDate, labelFor, debounce } from "../format.js";

describe("formatCount", () => {
  it("shows parameter counts readably", () => {
    expect(formatCount(950)).toBe("950");
    expect(formatCount(40000)).toBe("40.0K");
    expect(formatCount(25_600_000)).toBe("25.6M");
    expect(formatCount(1_300_000_000)).toBe("1.3B");
    expect(formatCount(999_999)).toBe("1.0M");
    expect(formatCount(340_000_000)).toBe("340M");
    expect(formatCount(null)).toBe("—");
    expect(formatCount(NaN)).toBe("—");
  });
});

describe("formatMetric", () => {
  it("uses sensible precision", () => {
    expect(formatMetric(0.97333333)).toBe("0.9733");
    expect(formatMetric(12.34567)).toBe("12.346");
    expect(formatMetric(123.456)).toBe("123.5");
    expect(formatMetric(5)).toBe("5");
    expect(formatMetric(0.00001234)).toBe("1.23e-5");
    expect(formatMetric(undefined)).toBe("—");
  });
  it("formats bytes and dates", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(3_300_000)).toBe("3.1 MiB");
    expect(formatBytes(160000)).toBe("156 KiB");
    expect(formatDate("2024-05-01T12:00:00")).toBe("2024-05-01");
    expect(formatDate(null)).toBe("—");
  });
});

describe("labelFor", () => {
  it("labels are sentence case", () => {
    expect(labelFor("val_accuracy")).toBe("Val accuracy");
    expect(labelFor("framework")).toBe("Framework");
    expect(labelFor("base_model")).toBe("Base model");
    expect(labelFor("id")).toBe("ID");
  });
});

describe("debounce", () => {
  it("calls once after the pause, flush runs now", () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const d = debounce(fn, 100);
    d(1);
    d(2);
    d(3);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(100);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(fn).toHaveBeenCalledWith(3);
    d(4);
    d.flush();
    expect(fn).toHaveBeenCalledTimes(2);
    vi.useRealTimers();
  });
});
