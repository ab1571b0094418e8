//! Bar charts as accessible inline SVG, drawn on the server (no JavaScript): `role="img"` with a
//! title and a description, every bar with its own `<title>` (the value), and colours with at
//! least 3:1 contrast against white. The page shows a table with the same figures below each.

/// Colours of the series (WCAG 1.4.11: ≥ 3:1 against white).
const COLOURS: [&str; 4] = ["#005f73", "#9b2226", "#7a5c00", "#3a3a8c"];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// One series of values, one per label.
pub struct Series<'a> {
    pub name: &'a str,
    pub values: Vec<f64>,
}

/// A grouped bar chart: one group of bars per label, one bar per series.
pub fn bars(
    lang: crate::domain::language::Language,
    id: &str,
    title: &str,
    description: &str,
    labels: &[String],
    series: &[Series<'_>],
) -> String {
    let (width, height, left, bottom, top) = (720.0_f64, 260.0_f64, 44.0_f64, 40.0_f64, 28.0_f64);
    let max = series.iter().flat_map(|s| s.values.iter().copied()).fold(0.0_f64, f64::max);
    // Counts are whole numbers: the axis starts at 0–4 and its ticks stay whole.
    let scale_max = nice_ceiling(max).max(4.0);
    let steps = ticks(scale_max);
    let plot_h = height - bottom - top;
    let group_w = (width - left - 8.0) / labels.len().max(1) as f64;
    let bar_w = (group_w * 0.8 / series.len().max(1) as f64).max(1.0);
    let mut svg = format!(
        "<svg id=\"{id}\" class=\"chart\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" viewBox=\"0 0 {width} {height}\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        escape(title),
        escape(description)
    );
    // Axis and grid.
    for step in 0..=steps {
        let value = scale_max * f64::from(step) / f64::from(steps);
        let y = top + plot_h - plot_h * f64::from(step) / f64::from(steps);
        svg.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#d0d0d0\" stroke-width=\"1\"/>\
             <text x=\"{}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#333\">{}</text>",
            width - 8.0,
            left - 4.0,
            y + 4.0,
            crate::templating::number(lang, value)
        ));
    }
    for (i, label) in labels.iter().enumerate() {
        let gx = left + group_w * i as f64 + group_w * 0.1;
        for (j, s) in series.iter().enumerate() {
            let v = s.values.get(i).copied().unwrap_or(0.0);
            let h = if scale_max > 0.0 { plot_h * v / scale_max } else { 0.0 };
            let x = gx + bar_w * j as f64;
            let y = top + plot_h - h;
            svg.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{}\"><title>{}: {} {}</title></rect>",
                (bar_w - 1.0).max(1.0),
                COLOURS[j % COLOURS.len()],
                escape(label),
                escape(s.name),
                crate::templating::number(lang, v)
            ));
        }
        // Label every group when there is room, else every other.
        if labels.len() <= 12 || i % 2 == 0 {
            svg.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
                gx + group_w * 0.4,
                height - bottom + 16.0,
                escape(label)
            ));
        }
    }
    // Legend.
    let mut lx = left;
    for (j, s) in series.iter().enumerate() {
        svg.push_str(&format!(
            "<rect x=\"{lx:.1}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{:.1}\" y=\"16\" font-size=\"12\" fill=\"#1a1a1a\">{}</text>",
            COLOURS[j % COLOURS.len()],
            lx + 16.0,
            escape(s.name)
        ));
        lx += 24.0 + 7.0 * s.name.chars().count() as f64;
    }
    svg.push_str("</svg>");
    svg
}

/// A round upper bound for the axis: 1, 2, 5 × 10ⁿ.
fn nice_ceiling(max: f64) -> f64 {
    if max <= 0.0 {
        return 4.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    for m in [1.0, 2.0, 4.0, 5.0, 10.0] {
        if m * magnitude >= max {
            return m * magnitude;
        }
    }
    10.0 * magnitude
}

/// How many steps divide the axis into whole numbers: 4 where they do (4, 20, 40, 100 …), else 5
/// (10, 50 …), else 2.
fn ticks(scale_max: f64) -> u32 {
    [4u32, 5, 2].into_iter().find(|n| (scale_max / f64::from(*n)).fract() == 0.0).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_labelled_images_with_a_title_per_bar() {
        let labels = vec!["2026-01".to_string(), "2026-02".to_string()];
        let svg = bars(
            crate::domain::language::Language::Nb,
            "c1",
            "Søknader <per> måned",
            "Mottatt og vedtatt",
            &labels,
            &[Series { name: "Mottatt", values: vec![3.0, 7.0] }, Series { name: "Vedtatt", values: vec![1.0, 0.0] }],
        );
        assert!(svg.starts_with("<svg id=\"c1\" class=\"chart\" role=\"img\" aria-labelledby=\"c1-title c1-desc\""));
        assert!(svg.contains("<title id=\"c1-title\">Søknader &lt;per&gt; måned</title>"));
        assert!(svg.contains("<title>2026-02: Mottatt 7</title>"));
        assert_eq!(svg.matches("<rect").count(), 4 + 2, "four bars and two legend keys");
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn axis_tops_are_round() {
        assert_eq!(nice_ceiling(0.0), 4.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(13.0), 20.0);
        assert_eq!(nice_ceiling(380.0), 400.0);
        use crate::domain::language::Language;
        assert_eq!(crate::templating::number(Language::En, 2.5), "2.5");
        assert_eq!(crate::templating::number(Language::Nb, 2.5), "2,5", "a decimal comma in bokmål");
        // Whole ticks: 0–4 by 1, 0–10 by 2, 0–20 by 5, 0–400 by 100.
        for (top, steps) in [(4.0, 4), (10.0, 5), (20.0, 4), (50.0, 5), (400.0, 4)] {
            assert_eq!(ticks(top), steps, "{top}");
            assert_eq!((top / f64::from(steps)).fract(), 0.0);
        }
        assert_eq!(crate::templating::number(Language::Nn, 3.0), "3");
    }
}
