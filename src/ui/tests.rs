//! The coverage grid's colours, measured: every two marks' colours must
//! stay apart for a reader with normal colour vision and for one with each
//! kind of colour blindness, as simulated by Machado, Oliveira and
//! Fernandes (2009, severity 1). The distance is CIE76 ΔE in CIELAB: about
//! 2 is just noticeable; the grid needs colours told apart at a glance in
//! cells a few pixels wide.

/// The colours of the grid's marks that are one colour, by their CSS
/// variables: every mark's cell is `.c-x { background: var(--x); }`,
/// or a pattern of those colours (prices and no data for partial).
fn plain_colours(css: &str) -> Vec<&'static str> {
    let mut plain = Vec::new();
    for mark in crate::report::Mark::ALL {
        let class = super::pages::mark_class(mark);
        let rule = format!(".c-{class} {{ background: ");
        let at = css.find(&rule).unwrap_or_else(|| panic!(".c-{class} is not in app.css")) + rule.len();
        if css[at..].starts_with(&format!("var(--{class});")) {
            plain.push(class);
        } else {
            assert!(
                css[at..].starts_with("repeating-linear-gradient("),
                ".c-{class} is neither a colour nor a pattern"
            );
        }
    }
    plain
}

/// Every two marks' colours at least this far apart, for every reader.
const APART: f64 = 18.0;

/// Linear-RGB matrices that simulate each kind of colour vision.
const VISION: [(&str, [[f64; 3]; 3]); 4] = [
    ("normal", [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]),
    ("protanopia", [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]),
    (
        "deuteranopia",
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    ),
    ("tritanopia", [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]),
];

/// `--name: #rrggbb` from the stylesheet, as linear RGB.
fn colour(css: &str, name: &str) -> [f64; 3] {
    let at = css.find(&format!("--{name}: #")).unwrap_or_else(|| panic!("--{name} is not in app.css")) + name.len() + 5;
    let hex = &css[at..at + 6];
    let channel = |i: usize| {
        let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).expect("a hex colour")) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    [channel(0), channel(2), channel(4)]
}

/// Linear RGB, as a reader of that vision sees it, in CIELAB (D65).
fn lab(rgb: [f64; 3], m: &[[f64; 3]; 3]) -> [f64; 3] {
    let s: Vec<f64> = m.iter().map(|row| (0..3).map(|j| row[j] * rgb[j]).sum::<f64>().clamp(0.0, 1.0)).collect();
    let x = 0.4124 * s[0] + 0.3576 * s[1] + 0.1805 * s[2];
    let y = 0.2126 * s[0] + 0.7152 * s[1] + 0.0722 * s[2];
    let z = 0.0193 * s[0] + 0.1192 * s[1] + 0.9505 * s[2];
    let f = |t: f64| if t > 0.008856 { t.cbrt() } else { 7.787 * t + 16.0 / 116.0 };
    let (fx, fy, fz) = (f(x / 0.95047), f(y), f(z / 1.08883));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

fn distance(a: [f64; 3], b: [f64; 3]) -> f64 {
    (0..3).map(|i| (a[i] - b[i]).powi(2)).sum::<f64>().sqrt()
}

#[test]
fn every_two_states_look_different_to_every_reader() {
    let css = super::APP_CSS;
    let marks = plain_colours(css);
    assert_eq!(marks.len(), 7, "{marks:?}");
    let mut close = Vec::new();
    for (vision, m) in &VISION {
        for (i, a) in marks.iter().enumerate() {
            for b in &marks[i + 1..] {
                let d = distance(lab(colour(css, a), m), lab(colour(css, b), m));
                if d < APART {
                    close.push(format!("{a} and {b}: ΔE {d:.1} with {vision}"));
                }
            }
        }
    }
    assert!(close.is_empty(), "colours too alike: {close:#?}");
}

#[test]
fn prices_and_no_data_is_stripes_of_the_two() {
    // Not a third green beside the prices' (what the grid had).
    assert!(super::APP_CSS.contains("repeating-linear-gradient(135deg, var(--prices) 0 3px, var(--nodata) 3px 6px)"));
}
