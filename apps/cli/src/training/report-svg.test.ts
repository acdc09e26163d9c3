import { expect, test } from "vitest";
import { renderReportSvg } from "./report-svg.ts";

test("the report zooms the recall axis, charts the change and the objective, and says when the start was kept", async () => {
  const svg = await renderReportSvg({
    title: "report",
    series: [
      { label: "before", recall: [0.9, 0.86, 0.88] },
      { label: "after", recall: [0.89, 0.87, 0.9] },
    ],
    curves: [{ label: "after", points: [{ step: 0, objective: 0.86 }, { step: 50, objective: 0.85 }], selectedStep: 0 }],
    gain: { values: [0, 0.2, -0.1, 0.05, 0, 0, 0.3, 0, 0], k: 3, title: "last gain" },
  });
  expect(svg.startsWith("<svg")).toBe(true);
  expect(svg).toContain("axis starts at 80%");
  expect(svg).toContain("change in test recall vs before (points)");
  expect(svg).toContain("validation objective at each gain refresh");
  expect(svg).toContain("after: selected step 0, no fine-tuned state beat the start on validation, so the start was kept");
  // the gain legend is symmetric: its ends are ±max |G| = ±0.3
  expect(svg).toContain("3.0e-1");
  expect(svg).toContain("−3.0e-1");
});
