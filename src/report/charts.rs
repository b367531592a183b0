//! The report's charts, drawn with `plotters` into inline SVG: bars for counts (grades,
//! the funnel, rule points), lines and points for a model's ROC curve, lift,
//! calibration and backtest AUC over time.
//!
//! Each chart draws its data in one colour of [`palette`] and reference lines (the
//! diagonal, a lift of 1) in [`palette::REFERENCE`], so a reader, and the report test,
//! can tell the series apart: one `<polyline>` per line series, one `<circle>` per
//! point, one `<rect>` per bar. Titles and legends are in the page, not in the SVG.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::model_figures::{BacktestPoint, Decile};
use crate::error::{Error, Result};

/// The colours of the charts (also named in the page's legends).
pub mod palette {
    use plotters::style::RGBColor;

    /// Bars and the main line of a chart.
    pub const MAIN: RGBColor = RGBColor(0x1F, 0x5F, 0xA8);
    /// Reference lines: the diagonal of a ROC or calibration chart, a lift of 1.
    pub const REFERENCE: RGBColor = RGBColor(0x99, 0x99, 0x99);
    /// Backtest instants whose outcomes were training data.
    pub const TRAINING: RGBColor = RGBColor(0xE0, 0x8A, 0x1E);
    /// Unassigned activities in the funnel.
    pub const WARNING: RGBColor = RGBColor(0xC0, 0x39, 0x2B);

    /// `#RRGGBB` of a colour, as the SVG and the page's CSS write it.
    pub fn hex(c: RGBColor) -> String {
        format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
    }
}

use palette::{MAIN, REFERENCE, TRAINING, WARNING};

const WIDTH: u32 = 560;
const HEIGHT: u32 = 340;
const FONT: &str = "sans-serif";

fn chart_error(e: impl std::fmt::Display) -> Error {
    Error::Query(format!("report chart: {e}"))
}

/// Draws into a new SVG of `size` with `draw`. The inputs are finite (callers drop
/// NaN and infinities); a panic inside the charting library is still turned into an
/// error rather than ending the command.
fn svg(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<()>,
) -> Result<String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
            root.fill(&WHITE).map_err(chart_error)?;
            draw(&root)?;
            root.present().map_err(chart_error)?;
        }
        Ok(out)
    }))
    .unwrap_or_else(|_| Err(chart_error("the chart library failed on this data")))
}

fn label_style() -> TextStyle<'static> {
    (FONT, 13).into_font().color(&BLACK)
}

fn value_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Vertical bars, one per `(label, value)`, with `y_desc` on the value axis.
pub fn columns(items: &[(String, f64)], x_desc: &str, y_desc: &str) -> Result<String> {
    let items: Vec<(String, f64)> = items
        .iter()
        .map(|(l, v)| (l.clone(), if v.is_finite() { *v } else { 0.0 }))
        .collect();
    svg((WIDTH, HEIGHT), |root| {
        // An integer range's segments include its end.
        // At least two segments: a range of one has no width.
        let last = (items.len() as i32 - 1).max(1);
        let max = items.iter().map(|i| i.1).fold(0.0, f64::max).max(5.0) * 1.15;
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d((0..last).into_segmented(), 0f64..max)
            .map_err(chart_error)?;
        let names = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => items
                .get(*i as usize)
                .map(|i| i.0.clone())
                .unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .disable_x_mesh()
            .x_labels(items.len().max(1))
            .x_label_formatter(&names)
            .y_label_formatter(&|v| value_text(*v))
            .x_desc(x_desc)
            .y_desc(y_desc)
            .label_style(label_style())
            .axis_desc_style((FONT, 14))
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(items.iter().enumerate().map(|(i, (_, v))| {
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(i as i32), 0.0),
                        (SegmentValue::Exact(i as i32 + 1), *v),
                    ],
                    MAIN.filled(),
                );
                bar.set_margin(0, 0, 10, 10);
                bar
            }))
            .map_err(chart_error)?;
        chart
            .draw_series(items.iter().enumerate().map(|(i, (_, v))| {
                Text::new(
                    value_text(*v),
                    (SegmentValue::CenterOf(i as i32), *v + max * 0.02),
                    label_style().pos(Pos::new(HPos::Center, VPos::Bottom)),
                )
            }))
            .map_err(chart_error)?;
        Ok(())
    })
}

/// Horizontal bars, first item on top, each `(label, value, warning)` (negative values
/// to the left of 0); a warning bar is drawn in [`palette::WARNING`].
pub fn bars(items: &[(String, f64, bool)], x_desc: &str, label_width: u32) -> Result<String> {
    let items: Vec<(String, f64, bool)> = items
        .iter()
        .map(|(l, v, w)| (l.clone(), if v.is_finite() { *v } else { 0.0 }, *w))
        .collect();
    let height = (70 + 34 * items.len().max(1) as u32).max(160);
    svg((WIDTH + label_width.saturating_sub(140), height), |root| {
        // An integer range's segments include its end.
        // At least two segments: a range of one has no width.
        let last = (items.len() as i32 - 1).max(1);
        let max = items.iter().map(|i| i.1).fold(0.0, f64::max).max(5.0);
        let min = items.iter().map(|i| i.1).fold(0.0, f64::min);
        // Room for the value labels beside the bars.
        let room = (max - min) * 0.15;
        let row = |i: usize| last - i as i32;
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(label_width)
            .build_cartesian_2d(
                (min - if min < 0.0 { room } else { 0.0 })..(max + room),
                (0..last).into_segmented(),
            )
            .map_err(chart_error)?;
        let names = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(r) => items
                .get((last - *r) as usize)
                .map(|i| i.0.clone())
                .unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .disable_y_mesh()
            .y_labels(items.len().max(1))
            .y_label_formatter(&names)
            .x_label_formatter(&|v| value_text(*v))
            .x_desc(x_desc)
            .label_style(label_style())
            .axis_desc_style((FONT, 14))
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(items.iter().enumerate().map(|(i, (_, v, warn))| {
                let colour = if *warn { WARNING } else { MAIN };
                let mut bar = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(row(i))),
                        (*v, SegmentValue::Exact(row(i) + 1)),
                    ],
                    colour.filled(),
                );
                bar.set_margin(5, 5, 0, 0);
                bar
            }))
            .map_err(chart_error)?;
        chart
            .draw_series(items.iter().enumerate().map(|(i, (_, v, _))| {
                let (text, side) = if *v < 0.0 {
                    (format!("{} ", value_text(*v)), HPos::Right)
                } else {
                    (format!(" {}", value_text(*v)), HPos::Left)
                };
                Text::new(
                    text,
                    (*v, SegmentValue::CenterOf(row(i))),
                    label_style().pos(Pos::new(side, VPos::Center)),
                )
            }))
            .map_err(chart_error)?;
        Ok(())
    })
}

/// A ROC curve: `points` as `(false positive rate, true positive rate)`, with the
/// diagonal of a random ranking.
pub fn roc(points: &[(f64, f64)]) -> Result<String> {
    let points: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .collect();
    svg((WIDTH, HEIGHT + 40), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..1f64, 0f64..1f64)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .x_desc("False positive rate (non-converting leads above the threshold)")
            .y_desc("True positive rate")
            .x_label_formatter(&|v| format!("{:.0}%", v * 100.0))
            .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
            .label_style(label_style())
            .axis_desc_style((FONT, 14))
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(LineSeries::new(
                [(0.0, 0.0), (1.0, 1.0)],
                REFERENCE.stroke_width(1),
            ))
            .map_err(chart_error)?;
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                MAIN.stroke_width(2),
            ))
            .map_err(chart_error)?;
        Ok(())
    })
}

/// Lift per decile (conversion rate over the overall rate), with the line of a lift
/// of 1.
pub fn lift(deciles: &[Decile], base_rate: f64) -> Result<String> {
    let points: Vec<(f64, f64)> = deciles
        .iter()
        .filter_map(|d| Some((d.decile as f64, d.actual? / base_rate)))
        .filter(|p| p.1.is_finite())
        .collect();
    svg((WIDTH, HEIGHT), |root| {
        let max = points.iter().map(|p| p.1).fold(1.0, f64::max) * 1.15;
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d(0.5f64..10.5f64, 0f64..max)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .x_labels(10)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.1}×"))
            .x_desc("Decile by predicted probability (1 = best-scored 10%)")
            .y_desc("Lift (decile's conversion ÷ overall)")
            .label_style(label_style())
            .axis_desc_style((FONT, 14))
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(LineSeries::new(
                [(0.5, 1.0), (10.5, 1.0)],
                REFERENCE.stroke_width(1),
            ))
            .map_err(chart_error)?;
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                MAIN.stroke_width(2),
            ))
            .map_err(chart_error)?;
        chart
            .draw_series(points.iter().map(|p| Circle::new(*p, 4, MAIN.filled())))
            .map_err(chart_error)?;
        Ok(())
    })
}

/// Calibration: per decile, mean predicted probability against the share that
/// converted, with the diagonal of perfect calibration.
pub fn calibration(deciles: &[Decile]) -> Result<String> {
    let points: Vec<(f64, f64)> = deciles
        .iter()
        .filter_map(|d| Some((d.predicted? * 100.0, d.actual? * 100.0)))
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .collect();
    svg((WIDTH, HEIGHT), |root| {
        let max = points
            .iter()
            .map(|p| p.0.max(p.1))
            .fold(1.0, f64::max)
            .min(100.0)
            * 1.1;
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..max, 0f64..max)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .x_label_formatter(&|v| format!("{v:.0}%"))
            .y_label_formatter(&|v| format!("{v:.0}%"))
            .x_desc("Predicted probability (decile mean)")
            .y_desc("Actually qualified")
            .label_style(label_style())
            .axis_desc_style((FONT, 14))
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(LineSeries::new(
                [(0.0, 0.0), (max, max)],
                REFERENCE.stroke_width(1),
            ))
            .map_err(chart_error)?;
        chart
            .draw_series(points.iter().map(|p| Circle::new(*p, 5, MAIN.filled())))
            .map_err(chart_error)?;
        Ok(())
    })
}

fn month(micros: f64) -> String {
    chrono::DateTime::from_timestamp_micros(micros as i64)
        .map(|d| d.format("%Y-%m").to_string())
        .unwrap_or_default()
}

/// Backtest AUC over time: a line through the instants with an AUC, a point each,
/// filled in [`palette::MAIN`] for out-of-time instants and in [`palette::TRAINING`]
/// for those whose outcomes were training data.
pub fn backtest(points: &[BacktestPoint]) -> Result<String> {
    let xy: Vec<(f64, f64, bool)> = points
        .iter()
        .filter_map(|p| Some((p.as_of as f64, p.auc?, p.in_training_period == Some(true))))
        .filter(|p| p.1.is_finite())
        .collect();
    svg((WIDTH, HEIGHT), |root| {
        let (lo, hi) = match (xy.first(), xy.last()) {
            (Some(a), Some(b)) => (a.0, b.0),
            _ => (0.0, 1.0),
        };
        let pad = ((hi - lo) * 0.05).max(86_400e6 * 5.0);
        let min_auc = xy.iter().map(|p| p.1).fold(0.5, f64::min);
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d((lo - pad)..(hi + pad), (min_auc - 0.05).max(0.0)..1f64)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .x_labels(6)
            .x_label_formatter(&|v| month(*v))
            .y_label_formatter(&|v| format!("{v:.2}"))
            .x_desc("Instant (leads open then, outcome within the horizon)")
            .y_desc("AUC")
            .label_style(label_style())
            .axis_desc_style((FONT, 14))
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(LineSeries::new(
                xy.iter().map(|p| (p.0, p.1)),
                MAIN.stroke_width(2),
            ))
            .map_err(chart_error)?;
        chart
            .draw_series(xy.iter().map(|p| {
                let colour = if p.2 { TRAINING } else { MAIN };
                Circle::new((p.0, p.1), 4, colour.filled())
            }))
            .map_err(chart_error)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(svg: &str, needle: &str) -> usize {
        svg.matches(needle).count()
    }

    #[test]
    fn empty_and_extreme_data_still_draw() {
        assert!(columns(&[], "x", "y").is_ok());
        assert!(bars(&[], "x", 100).is_ok());
        assert!(roc(&[]).is_ok());
        assert!(lift(&[], 0.1).is_ok());
        assert!(calibration(&[]).is_ok());
        assert!(backtest(&[]).is_ok());
        let one = BacktestPoint {
            as_of: 0,
            auc: Some(1.0),
            in_training_period: None,
            leads: 1,
            converted: 1,
        };
        assert!(backtest(&[one]).is_ok());
        let extreme = [
            ("a".to_string(), f64::INFINITY, false),
            ("b".to_string(), -1e300, true),
            ("c".to_string(), f64::NAN, false),
        ];
        assert!(bars(&extreme, "x", 100).is_ok());
        assert!(roc(&[(f64::NAN, 0.5), (0.0, 0.0), (1.0, 1.0)]).is_ok());
    }

    /// Regression: one bar alone was drawn with a negative width (Chromium logs an
    /// error for `<rect width="-20">`).
    #[test]
    fn a_single_bar_has_a_positive_width() {
        let one = columns(&[("Hot".to_string(), 1.0)], "grade", "leads").expect("svg");
        let lone = bars(&[("step".to_string(), 1.0, false)], "leads", 100).expect("svg");
        for svg in [one, lone] {
            assert!(!svg.contains("width=\"-"), "{svg}");
            assert_eq!(count(&svg, &format!("fill=\"{}\"", palette::hex(MAIN))), 1);
        }
    }

    #[test]
    fn one_bar_per_item_and_one_point_per_decile() {
        let items: Vec<(String, f64)> = [("A", 3.0), ("B <&>", 0.0), ("C", 7.5)]
            .iter()
            .map(|(l, v)| (l.to_string(), *v))
            .collect();
        let svg = columns(&items, "grade", "leads").expect("svg");
        assert_eq!(count(&svg, &format!("fill=\"{}\"", palette::hex(MAIN))), 3);
        // Labels are text, escaped by the SVG backend.
        assert!(svg.contains("B &lt;&amp;&gt;"), "{svg}");
        let deciles: Vec<Decile> = (1..=10)
            .map(|d| Decile {
                decile: d,
                leads: 10,
                predicted: Some(0.5 / d as f64),
                actual: (d != 4).then_some(0.4 / d as f64),
            })
            .collect();
        let svg = calibration(&deciles).expect("svg");
        assert_eq!(count(&svg, "<circle"), 9);
        let svg = lift(&deciles, 0.1).expect("svg");
        assert_eq!(count(&svg, "<circle"), 9);
        assert_eq!(
            count(&svg, &format!("stroke=\"{}\"", palette::hex(REFERENCE))),
            1
        );
    }
}
