//! Charts as SVG drawn on the server with plotters and inlined in the page: they need no
//! script, and every label plotters writes is XML-escaped by its SVG backend.
//!
//! Colours are from the Okabe–Ito palette, which stays distinguishable with the common forms
//! of colour blindness. Each chart has a table beside it with the same numbers.

use plotters::prelude::*;

/// DMARC pass (blue).
pub const PASS: RGBColor = RGBColor(0x00, 0x72, 0xB2);
/// DMARC fail (vermillion).
pub const FAIL: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
/// Disposition none (sky blue), quarantine (orange), reject (reddish purple), other (grey).
pub const DISPOSITIONS: [(&str, RGBColor); 4] = [
    ("none", RGBColor(0x56, 0xB4, 0xE9)),
    ("quarantine", RGBColor(0xE6, 0x9F, 0x00)),
    ("reject", RGBColor(0xCC, 0x79, 0xA7)),
    ("other", RGBColor(0x99, 0x99, 0x99)),
];

/// The old name of [`hex_colour`].
#[deprecated(note = "renamed to `hex_colour`")]
pub fn hex(c: RGBColor) -> String {
    hex_colour(c)
}

/// `#RRGGBB` of a colour, as plotters writes it.
pub fn hex_colour(c: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

/// One stacked bar chart: `days` labels the x axis, `series` are (name, colour, values per
/// day), stacked in order from the axis up. A bar is drawn for each non-zero value, so the
/// number of bars of a series' colour is the number of days where it is non-zero.
pub fn stacked_bars(
    days: &[String],
    series: &[(&str, RGBColor, Vec<u64>)],
    y_desc: &str,
) -> String {
    let mut svg = String::new();
    let n = days.len().max(1);
    let top = (0..days.len())
        .map(|i| {
            series
                .iter()
                .map(|(_, _, v)| v.get(i).copied().unwrap_or(0))
                .fold(0u64, u64::saturating_add)
        })
        .max()
        .unwrap_or(0)
        .max(1);
    {
        let root = SVGBackend::with_string(&mut svg, (760, 260)).into_drawing_area();
        if draw(&root, days, series, y_desc, n, top).is_none() {
            // A drawing error leaves what was drawn; the table beside the chart has the numbers.
        }
        let _ = root.present();
    }
    svg
}

fn draw(
    root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    days: &[String],
    series: &[(&str, RGBColor, Vec<u64>)],
    y_desc: &str,
    n: usize,
    top: u64,
) -> Option<()> {
    root.fill(&WHITE).ok()?;
    let n_f = n as f64;
    let top_f = top as f64 * 1.05;
    let mut chart = ChartBuilder::on(root)
        .margin(8)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..n_f, 0.0..top_f)
        .ok()?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .max_light_lines(1)
        .light_line_style(TRANSPARENT)
        .x_labels(n.min(12) + 1)
        .x_label_formatter(&|x| {
            // Label ticks that fall on a whole day.
            let i = x.round();
            if i < 0.0 || (x - i).abs() > 0.01 {
                return String::new();
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let i = i as usize;
            // A window of more than a year shows the year too.
            days.get(i)
                .map(|d| {
                    if n > 366 {
                        d.clone()
                    } else {
                        d.get(5..).unwrap_or(d).to_owned()
                    }
                })
                .unwrap_or_default()
        })
        .y_label_formatter(&|y| format!("{y:.0}"))
        .x_desc("day (UTC)")
        .y_desc(y_desc)
        .draw()
        .ok()?;
    for i in 0..days.len() {
        let mut base = 0u64;
        for (_, colour, values) in series {
            let v = values.get(i).copied().unwrap_or(0);
            if v == 0 {
                continue;
            }
            let x0 = i as f64 + 0.1;
            let x1 = i as f64 + 0.9;
            let y0 = base as f64;
            let y1 = base.saturating_add(v) as f64;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x0, y0), (x1, y1)],
                    colour.filled(),
                )))
                .ok()?;
            base = base.saturating_add(v);
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_per_non_zero_value_and_escaped_labels() {
        let days: Vec<String> = ["2026-11-01", "2026-11-02", "2026-11-03"]
            .map(String::from)
            .to_vec();
        let svg = stacked_bars(
            &days,
            &[("pass", PASS, vec![5, 0, 7]), ("fail", FAIL, vec![1, 2, 0])],
            "messages <&>",
        );
        assert_eq!(
            svg.matches(&format!("fill=\"{}\"", hex_colour(PASS)))
                .count(),
            2
        );
        assert_eq!(
            svg.matches(&format!("fill=\"{}\"", hex_colour(FAIL)))
                .count(),
            2
        );
        assert!(svg.contains("messages &lt;&amp;&gt;"), "{svg}");
        assert!(svg.starts_with("<svg"));
    }
}
