//! The ratios as an SVG bar chart: one horizontal bar per dozen/peer ratio,
//! grouped by benchmark group, with the parity line (1.0, as fast as the
//! peer) and each ratio's committed baseline drawn and labelled.
//!
//! Plain SVG written by hand, so the report needs no drawing dependency; a
//! leaf module that knows nothing of criterion or of the Markdown table.

use std::fmt::Write as _;

/// One ratio to draw: `ours` over `peer` in `group`, and its baseline if any.
pub(crate) struct Bar {
    pub(crate) group: String,
    pub(crate) ours: String,
    pub(crate) peer: String,
    pub(crate) ratio: f64,
    pub(crate) baseline: Option<f64>,
}

const WIDTH: f64 = 1000.0;
/// Where the bars start: the labels take the column to the left.
const LEFT: f64 = 430.0;
const RIGHT: f64 = 70.0;
const TOP: f64 = 64.0;
const ROW: f64 = 20.0;
const GROUP_GAP: f64 = 18.0;
const BAR: f64 = 13.0;

/// The chart of `bars`, in their order, a heading before each new group.
pub(crate) fn svg(title: &str, bars: &[Bar]) -> String {
    let max = bars
        .iter()
        .flat_map(|b| [b.ratio, b.baseline.unwrap_or(0.0)])
        .filter(|v| v.is_finite())
        .fold(1.0_f64, f64::max);
    // The scale ends at the next half above the largest value.
    let scale_max = (max * 2.0).ceil() / 2.0 + 0.25;
    let span = WIDTH - LEFT - RIGHT;
    let x = |v: f64| LEFT + v.clamp(0.0, scale_max) / scale_max * span;

    let mut body = String::new();
    let mut y = TOP;
    let mut group: Option<&str> = None;
    for bar in bars {
        if group != Some(bar.group.as_str()) {
            y += GROUP_GAP;
            let _ = writeln!(
                body,
                r#"<text class="group" x="8" y="{:.1}">{}</text>"#,
                y - 4.0,
                escape(&bar.group)
            );
            group = Some(&bar.group);
        }
        let label = label(bar);
        let class = match bar.baseline {
            Some(b) if bar.ratio > b => "bar over",
            _ => "bar",
        };
        let _ = writeln!(
            body,
            r#"<text class="label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 8.0,
            y + BAR - 2.0,
            escape(&label)
        );
        let _ = writeln!(
            body,
            r#"<rect class="{class}" x="{LEFT:.1}" y="{y:.1}" width="{:.1}" height="{BAR:.1}"><title>{}: {:.3}</title></rect>"#,
            x(bar.ratio) - LEFT,
            escape(&label),
            bar.ratio
        );
        let _ = writeln!(
            body,
            r#"<text class="value" x="{:.1}" y="{:.1}">{:.3}</text>"#,
            x(bar.ratio) + 4.0,
            y + BAR - 2.0,
            bar.ratio
        );
        if let Some(b) = bar.baseline {
            let _ = writeln!(
                body,
                r#"<line class="baseline" x1="{0:.1}" x2="{0:.1}" y1="{1:.1}" y2="{2:.1}"><title>baseline {3:.3}</title></line>"#,
                x(b),
                y - 3.0,
                y + BAR + 3.0,
                b
            );
        }
        y += ROW;
    }
    let bottom = y + 8.0;
    let height = bottom + 30.0;

    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH:.0}" height="{height:.0}" viewBox="0 0 {WIDTH:.0} {height:.0}" font-family="sans-serif" font-size="12">"#
    );
    out.push_str(
        "<style>.bar{fill:#3b7dd8}.over{fill:#d8803b}.baseline{stroke:#222;stroke-width:2}\
         .parity{stroke:#b00;stroke-dasharray:4 3}.axis{stroke:#999}.group{font-weight:bold}\
         .value,.tick{fill:#444;font-size:11px}</style>\n",
    );
    let _ = writeln!(
        out,
        r##"<rect width="100%" height="100%" fill="#fff"/>
<text x="8" y="20" font-size="15" font-weight="bold">{}</text>
<text x="8" y="40">Bar: dozen's median time over the peer's, lower is better. Black mark: the committed baseline. Orange: above it.</text>"##,
        escape(title)
    );
    // The axis, its ticks every quarter, and the parity line at 1.0.
    let _ = writeln!(
        out,
        r#"<line class="axis" x1="{LEFT:.1}" x2="{LEFT:.1}" y1="{TOP:.1}" y2="{bottom:.1}"/>"#
    );
    let mut tick = 0.0;
    while tick <= scale_max + 1e-9 {
        let _ = writeln!(
            out,
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{tick:.2}</text>"#,
            x(tick),
            bottom + 14.0
        );
        tick += 0.25;
    }
    let _ = writeln!(
        out,
        r#"<line class="parity" x1="{0:.1}" x2="{0:.1}" y1="{1:.1}" y2="{bottom:.1}"/>
<text class="tick" x="{2:.1}" y="{3:.1}">1.0 = as fast as the peer</text>"#,
        x(1.0),
        TOP,
        x(1.0) + 4.0,
        TOP + 8.0
    );
    out.push_str(&body);
    out.push_str("</svg>\n");
    out
}

/// `case: ours vs peer`, the case said once when both ids share it.
fn label(bar: &Bar) -> String {
    match (bar.ours.split_once('/'), bar.peer.split_once('/')) {
        (Some((case, ours)), Some((peer_case, peer))) if case == peer_case => {
            format!("{case}: {ours} vs {peer}")
        }
        _ => format!("{} vs {}", bar.ours, bar.peer),
    }
}

/// Text safe inside an SVG element or attribute.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(group: &str, ours: &str, peer: &str, ratio: f64, baseline: Option<f64>) -> Bar {
        Bar {
            group: group.into(),
            ours: ours.into(),
            peer: peer.into(),
            ratio,
            baseline,
        }
    }

    fn count(haystack: &str, needle: &str) -> usize {
        haystack.matches(needle).count()
    }

    #[test]
    fn one_bar_and_one_value_per_ratio_and_a_heading_per_group() {
        let bars = [
            bar("log", "dozen-log", "fmt-json", 0.172, Some(0.2)),
            bar("log", "dozen-log", "fmt-text", 0.565, Some(0.63)),
            bar("url", "dozen-backing", "url", 1.153, None),
        ];
        let svg = svg("title", &bars);
        assert_eq!(count(&svg, r#"<rect class="bar"#), 3, "{svg}");
        assert_eq!(count(&svg, r#"class="baseline""#), 2, "{svg}");
        assert_eq!(count(&svg, r#"<text class="group""#), 2, "{svg}");
        assert!(svg.contains(">0.172</text>") && svg.contains(">1.153</text>"));
        assert_eq!(count(&svg, r#"class="parity""#), 1);
        assert!(svg.contains("1.0 = as fast as the peer"));
    }

    #[test]
    fn the_document_is_balanced() {
        let bars = [
            bar(
                "migrate",
                "apply-100/dozen-migrate",
                "apply-100/sqlx-migrate",
                0.9,
                Some(0.89),
            ),
            bar(
                "jobs",
                "throughput/dozen-jobs",
                "throughput/apalis",
                1.1,
                Some(1.15),
            ),
        ];
        let svg = svg("t", &bars);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>\n"));
        assert_eq!(count(&svg, "<svg"), count(&svg, "</svg>"));
        assert_eq!(count(&svg, "<text"), count(&svg, "</text>"));
        assert_eq!(count(&svg, "<title>"), count(&svg, "</title>"));
        assert_eq!(count(&svg, "<rect class="), count(&svg, "</rect>"));
        // Every quote opened in a tag is closed: an even number per line.
        for line in svg.lines() {
            assert_eq!(line.matches('"').count() % 2, 0, "{line}");
        }
        // The shared case is said once.
        assert!(
            svg.contains(">apply-100: dozen-migrate vs sqlx-migrate</text>"),
            "{svg}"
        );
    }

    #[test]
    fn a_ratio_above_its_baseline_is_marked() {
        let svg = svg("t", &[bar("g", "dozen", "peer", 1.3, Some(1.2))]);
        assert_eq!(count(&svg, r#"<rect class="bar over""#), 1, "{svg}");
        let svg = svg_of_one(1.1, Some(1.2));
        assert_eq!(count(&svg, r#"<rect class="bar over""#), 0, "{svg}");
    }

    fn svg_of_one(ratio: f64, baseline: Option<f64>) -> String {
        svg("t", &[bar("g", "dozen", "peer", ratio, baseline)])
    }

    #[test]
    fn bars_stay_inside_the_chart() {
        for (ratio, baseline) in [(0.0, None), (3.7, Some(1.0)), (0.5, Some(4.2))] {
            let svg = svg_of_one(ratio, baseline);
            let width: f64 = svg
                .split(r#"<rect class="bar"#)
                .nth(1)
                .and_then(|rest| rest.split("width=\"").nth(1))
                .and_then(|rest| rest.split('"').next())
                .and_then(|w| w.parse().ok())
                .expect("a bar with a width");
            assert!(
                (0.0..=WIDTH - LEFT - RIGHT).contains(&width),
                "{ratio}: {width}"
            );
        }
    }

    #[test]
    fn text_is_escaped() {
        let svg = svg(
            "a <title> & \"quotes\"",
            &[bar("<g>", "dozen&co", "peer's \"x\"", 0.5, None)],
        );
        assert!(
            svg.contains("a &lt;title&gt; &amp; &quot;quotes&quot;"),
            "{svg}"
        );
        assert!(svg.contains("&lt;g&gt;"));
        assert!(svg.contains("dozen&amp;co vs peer&apos;s &quot;x&quot;"));
        assert!(!svg.contains("<g>") && !svg.contains("dozen&co"));
    }
}
