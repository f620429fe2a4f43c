//! `run --plot FILE.svg`: every scalar fetch against the session's step count,
//! one panel per fetch, drawn with `plotters`' SVG backend and written atomically
//! (what is drawn: `docs/cli.md`).

use crate::runtime::{format_float, StepDone};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// The most points a series is drawn with.
pub const MAX_POINTS: usize = 2000;

const WIDTH: u32 = 900;
const PANEL_HEIGHT: u32 = 300;
const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// The scalar fetches of every step, by name in the order first seen.
#[derive(Default)]
pub struct PlotData {
    series: Vec<(String, Vec<(f64, f64)>)>,
}

impl PlotData {
    /// Records the scalar fetches of a finished step.
    pub fn add(&mut self, done: &StepDone<'_>) {
        for (name, value, _) in done.scalars() {
            let i = match self.series.iter().position(|(n, _)| n == name) {
                Some(i) => i,
                None => {
                    self.series.push((name.to_string(), Vec::new()));
                    self.series.len() - 1
                }
            };
            self.series[i].1.push((done.total as f64, value));
        }
    }

    /// Draws the plot as an SVG document.
    pub fn svg(&self) -> Result<String, String> {
        let mut text = String::new();
        let panels = self.series.len().max(1) as u32;
        {
            let root = SVGBackend::with_string(&mut text, (WIDTH, PANEL_HEIGHT * panels))
                .into_drawing_area();
            root.fill(&WHITE).map_err(|e| e.to_string())?;
            if self.series.is_empty() {
                root.draw_text(
                    "no scalar fetches to plot",
                    &("sans-serif", 20).into_text_style(&root),
                    (20, 40),
                )
                .map_err(|e| e.to_string())?;
            }
            // One step axis for every panel: a fetch of a later `run` shows where it ran.
            let steps = padded(
                self.series.iter().flat_map(|(_, p)| p.iter().map(|p| p.0)),
                0.01,
            );
            let areas = root.split_evenly((self.series.len().max(1), 1));
            for (i, ((name, points), area)) in self.series.iter().zip(&areas).enumerate() {
                let color = COLORS[i % COLORS.len()];
                panel(area, name, &reduce(points), steps, color).map_err(|e| e.to_string())?;
            }
            root.present().map_err(|e| e.to_string())?;
        }
        Ok(text)
    }

    /// Writes the plot to `path` whole or not at all (a temporary file in the
    /// same folder, then a rename).
    pub fn write(&self, path: &Path) -> Result<(), String> {
        let fail = |m: String| format!("--plot: cannot write '{}': {m}", path.display());
        let text = self.svg().map_err(fail)?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{file_name}.tmp{}", std::process::id()));
        let result =
            std::fs::write(&tmp, text.as_bytes()).and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(fail(super::io_error_text(&e)));
        }
        Ok(())
    }
}

/// Checks, before the first step, that `path` can be written: its folder
/// exists and it is not a folder itself.
pub fn check_path(path: &Path) -> Result<(), String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(format!(
            "--plot: cannot write '{}': the folder '{}' does not exist",
            path.display(),
            dir.display()
        ));
    }
    if path.is_dir() {
        return Err(format!(
            "--plot: cannot write '{}': it is a folder",
            path.display()
        ));
    }
    Ok(())
}

/// One fetch's panel: axes with labels, its line (and dots when few) and a legend.
fn panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    name: &str,
    points: &[(f64, f64)],
    (x0, x1): (f64, f64),
    color: RGBColor,
) -> Result<(), Box<dyn std::error::Error>> {
    let finite: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(_, y)| y.is_finite())
        .collect();
    let (y0, y1) = padded(finite.iter().map(|p| p.1), 0.05);
    let mut chart = ChartBuilder::on(area)
        .caption(name, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc(name)
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format_float(*y))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    // A line per stretch of finite values: a NaN breaks it.
    let mut stretches: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for &(x, y) in points {
        match (y.is_finite(), stretches.last_mut()) {
            (true, Some(s)) => s.push((x, y)),
            (false, Some(s)) if !s.is_empty() => stretches.push(Vec::new()),
            _ => {}
        }
    }
    let style = ShapeStyle::from(&color).stroke_width(2);
    for (i, stretch) in stretches.into_iter().enumerate() {
        let series = chart.draw_series(LineSeries::new(stretch, style))?;
        if i == 0 {
            series
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        }
    }
    if finite.len() <= 50 {
        chart.draw_series(
            finite
                .iter()
                .map(|&p| Circle::new(p, 3, ShapeStyle::from(&color).filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .position(legend_corner(&finite, (y0, y1)))
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// The legend's corner: upper right, unless the line ends in the upper half
/// of the panel (a rising curve), then lower right.
fn legend_corner(points: &[(f64, f64)], (y0, y1): (f64, f64)) -> SeriesLabelPosition {
    let tail = &points[points.len() - points.len().div_ceil(5)..];
    let high = tail.iter().filter(|p| p.1 > (y0 + y1) / 2.0).count();
    match high * 2 > tail.len() {
        true => SeriesLabelPosition::LowerRight,
        false => SeriesLabelPosition::UpperRight,
    }
}

/// The range of `values` widened by `pad` of its width on each side (an empty
/// or single-valued range gets a width of its own).
fn padded(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo > hi {
        return (0.0, 1.0);
    }
    if lo == hi {
        let half = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        return (lo - half, hi + half);
    }
    let extra = (hi - lo) * pad;
    (lo - extra, hi + extra)
}

/// At most [`MAX_POINTS`] points: the means of consecutive runs of equal
/// length (the last run may be shorter). A NaN in a run makes its mean NaN.
fn reduce(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    if points.len() <= MAX_POINTS {
        return points.to_vec();
    }
    let per = points.len().div_ceil(MAX_POINTS);
    points
        .chunks(per)
        .map(|c| {
            let n = c.len() as f64;
            let x = c.iter().map(|p| p.0).sum::<f64>() / n;
            let y = c.iter().map(|p| p.1).sum::<f64>() / n;
            (x, y)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{DType, Tensor};

    fn data(steps: u64) -> PlotData {
        let names = ["loss", "acc"].map(String::from);
        let mut plot = PlotData::default();
        for s in 1..=steps {
            let values = [
                Tensor::scalar(DType::F32, 2.0 / s as f64),
                Tensor::scalar(DType::F32, 1.0 - 1.0 / s as f64),
            ];
            plot.add(&StepDone {
                step: s,
                total: s,
                epoch: None,
                printed: false,
                names: &names,
                values: &values,
                is_group: &[false, false],
            });
        }
        plot
    }

    #[test]
    fn the_svg_names_each_series_and_the_axes() {
        let svg = data(30).svg().unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        // plotters writes each `<text>`'s content on a line of its own.
        for text in ["\nloss\n", "\nacc\n", "\nstep\n"] {
            assert!(svg.contains(text), "{text:?} missing");
        }
        assert!(svg.matches("<polyline").count() >= 2);
    }

    #[test]
    fn long_series_are_reduced_to_means() {
        let points: Vec<(f64, f64)> = (0..5000).map(|i| (i as f64, i as f64)).collect();
        let reduced = reduce(&points);
        assert!(reduced.len() <= MAX_POINTS);
        assert_eq!(reduced[0], (1.0, 1.0)); // the mean of 0, 1, 2
        assert_eq!(reduce(&points[..10]), points[..10].to_vec());
    }

    #[test]
    fn ranges_are_never_empty() {
        let (lo, hi) = padded([3.0].into_iter(), 0.05);
        assert!((lo - 2.7).abs() < 1e-12 && (hi - 3.3).abs() < 1e-12);
        assert_eq!(padded(std::iter::empty(), 0.05), (0.0, 1.0));
        assert_eq!(padded([0.0, 0.0].into_iter(), 0.0), (-1.0, 1.0));
    }
}
