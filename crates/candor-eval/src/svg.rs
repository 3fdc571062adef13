//! A hand-written SVG chart of ROC curves: axes with a grid, the chance diagonal, one
//! polyline per score and a legend with each AUC. No plotting dependency.

use std::fmt::Write as _;

use crate::aggregate::Orientation;
use crate::metrics::RocCurve;

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 560.0;
const LEFT: f64 = 70.0;
const TOP: f64 = 50.0;
const SIZE: f64 = 420.0;
const LEGEND_X: f64 = LEFT + SIZE + 40.0;

/// Colour-blind-friendly palette (Okabe-Ito, brown instead of its pale yellow), then a
/// few more.
const COLOURS: [&str; 12] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#8C564B",
    "#882255", "#44AA99", "#999933", "#AA4499",
];

fn x(fpr: f64) -> f64 {
    LEFT + fpr.clamp(0.0, 1.0) * SIZE
}

fn y(tpr: f64) -> f64 {
    TOP + (1.0 - tpr.clamp(0.0, 1.0)) * SIZE
}

/// Escapes text for XML content and attributes.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c => o.push(c),
        }
    }
    o
}

/// The chart as an SVG document.
pub fn roc_svg(title: &str, curves: &[RocCurve]) -> String {
    let mut o = String::new();
    write_svg(&mut o, title, curves).expect("writing to a String");
    o
}

fn write_svg(o: &mut String, title: &str, curves: &[RocCurve]) -> std::fmt::Result {
    let height = HEIGHT.max(TOP + 30.0 + 20.0 * curves.len() as f64);
    writeln!(
        o,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">
<title>{}</title>
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="28" font-size="15" text-anchor="middle">{}</text>"#,
        escape(title),
        LEFT + SIZE / 2.0,
        escape(title)
    )?;
    // Grid and ticks.
    for i in 0..=10 {
        let v = f64::from(i) / 10.0;
        let (gx, gy) = (x(v), y(v));
        let stroke = if i % 5 == 0 { "#cccccc" } else { "#eeeeee" };
        writeln!(
            o,
            r#"<line x1="{gx:.1}" y1="{TOP}" x2="{gx:.1}" y2="{:.1}" stroke="{stroke}"/>
<line x1="{LEFT}" y1="{gy:.1}" x2="{:.1}" y2="{gy:.1}" stroke="{stroke}"/>"#,
            TOP + SIZE,
            LEFT + SIZE
        )?;
        if i % 2 == 0 {
            writeln!(
                o,
                r#"<text x="{gx:.1}" y="{:.1}" text-anchor="middle">{v:.1}</text>
<text x="{:.1}" y="{:.1}" text-anchor="end">{v:.1}</text>"#,
                TOP + SIZE + 18.0,
                LEFT - 8.0,
                gy + 4.0
            )?;
        }
    }
    // Axes and labels.
    writeln!(
        o,
        r##"<rect x="{LEFT}" y="{TOP}" width="{SIZE}" height="{SIZE}" fill="none" stroke="#333333"/>
<text x="{:.1}" y="{:.1}" text-anchor="middle">False positive rate (real files flagged = BPCER)</text>
<text x="{:.1}" y="{:.1}" text-anchor="middle" transform="rotate(-90 {:.1} {:.1})">True positive rate (attacks flagged = 1 - APCER)</text>
<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#888888" stroke-dasharray="4 4"/>"##,
        LEFT + SIZE / 2.0,
        TOP + SIZE + 40.0,
        LEFT - 45.0,
        TOP + SIZE / 2.0,
        LEFT - 45.0,
        TOP + SIZE / 2.0,
        x(0.0),
        y(0.0),
        x(1.0),
        y(1.0)
    )?;
    // Curves and legend.
    writeln!(
        o,
        r#"<text x="{LEGEND_X}" y="{TOP}" font-weight="bold">score (AUC)</text>"#
    )?;
    for (i, c) in curves.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let dash = if c.orientation == Orientation::Unknown {
            r#" stroke-dasharray="6 3""#
        } else {
            ""
        };
        if !c.points.is_empty() {
            let pts: Vec<String> = c
                .points
                .iter()
                .map(|p| format!("{:.1},{:.1}", x(p.fpr), y(p.tpr)))
                .collect();
            writeln!(
                o,
                r#"<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{}"><title>{}</title></polyline>"#,
                pts.join(" "),
                escape(&c.score)
            )?;
        }
        let ly = TOP + 20.0 + 20.0 * i as f64;
        let auc = c.auc.map_or("n/a".to_string(), |a| format!("{a:.3}"));
        let note = match c.orientation {
            Orientation::Unknown => ", orientation unknown",
            _ => "",
        };
        writeln!(
            o,
            r#"<line x1="{LEGEND_X}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="3"{dash}/>
<text x="{:.1}" y="{:.1}">{} ({auc}{note})</text>"#,
            ly - 4.0,
            LEGEND_X + 24.0,
            ly - 4.0,
            LEGEND_X + 30.0,
            ly,
            escape(&c.score)
        )?;
    }
    writeln!(o, "</svg>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::RocPoint;

    #[test]
    fn draws_curves_diagonal_and_legend() {
        let curves = vec![
            RocCurve {
                score: "liveness.mean".into(),
                orientation: Orientation::LowerIsAttack,
                attack_if: "<=".into(),
                auc: Some(0.75),
                points: vec![
                    RocPoint {
                        fpr: 0.0,
                        tpr: 0.0,
                        threshold: None,
                    },
                    RocPoint {
                        fpr: 0.5,
                        tpr: 1.0,
                        threshold: Some(0.3),
                    },
                    RocPoint {
                        fpr: 1.0,
                        tpr: 1.0,
                        threshold: Some(0.9),
                    },
                ],
            },
            RocCurve {
                score: "a<b&c".into(),
                orientation: Orientation::Unknown,
                attack_if: ">=".into(),
                auc: None,
                points: vec![],
            },
        ];
        let s = roc_svg("ROC, any attack vs real", &curves);
        assert!(s.starts_with("<?xml"));
        assert!(s.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(s.trim_end().ends_with("</svg>"));
        assert_eq!(s.matches("<polyline").count(), 1);
        assert!(
            s.contains("points=\"70.0,470.0 280.0,50.0 490.0,50.0\""),
            "{s}"
        );
        assert!(s.contains("liveness.mean (0.750)"));
        assert!(s.contains("a&lt;b&amp;c (n/a, orientation unknown)"));
        assert!(s.contains("stroke-dasharray=\"4 4\""), "diagonal");
        assert_eq!(s.matches("<svg").count(), s.matches("</svg>").count());
    }
}
