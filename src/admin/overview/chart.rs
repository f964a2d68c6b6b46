//! Bar charts drawn on the server as SVG: no script, scaled by their `viewBox` to any width, with
//! text large enough on a phone, a title and a description for screen readers (the table beside
//! each chart has every figure). Only presentation attributes, so the page's content security
//! policy, which refuses inline styles, does not get in the way.

use chrono::NaiveDate;

const LEFT: f64 = 58.0;
const RIGHT: f64 = 472.0;
const TOP: f64 = 44.0;
const BOTTOM: f64 = 236.0;

/// Colours with at least 4.5:1 contrast on white, so bars and text read alike.
const COLOURS: [&str; 2] = ["#1d5f73", "#a04a00"];

/// One line of bars: a name for the legend and a value per week (`None`: nothing to measure).
pub struct Series {
    pub name: &'static str,
    pub values: Vec<Option<f64>>,
}

pub struct Bar {
    pub x: String,
    pub y: String,
    pub width: String,
    pub height: String,
    pub colour: &'static str,
}

pub struct Tick {
    pub y: String,
    pub label: String,
}

pub struct Label {
    pub x: String,
    pub text: String,
}

pub struct Key {
    pub x: String,
    pub text_x: String,
    pub name: &'static str,
    pub colour: &'static str,
}

/// A chart ready for `templates/admin/overview_chart.html`.
pub struct Chart {
    pub id: &'static str,
    pub title: String,
    pub desc: String,
    pub keys: Vec<Key>,
    pub ticks: Vec<Tick>,
    pub bars: Vec<Bar>,
    pub labels: Vec<Label>,
}

fn n(v: f64) -> String {
    format!("{:.1}", v)
}

/// A round step for two gridlines above zero that reach at least `max`.
fn step_for(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let rough = max / 2.0;
    let power = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * power)
}

/// Draws `series` over the weeks starting on `weeks`. `top` fixes the scale (100 for a share);
/// `unit` writes an axis value. Counts (`whole`) get whole-number gridlines.
pub fn bars(
    id: &'static str,
    title: String,
    weeks: &[NaiveDate],
    series: Vec<Series>,
    top: Option<f64>,
    whole: bool,
    unit: fn(f64) -> String,
) -> Chart {
    let highest = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .fold(0.0f64, |a, b| a.max(*b));
    let (step, max) = match top {
        Some(top) => (top / 2.0, top),
        None => {
            let step = if whole {
                step_for(highest).ceil()
            } else {
                step_for(highest)
            };
            (step, step * 2.0)
        }
    };
    let scale = |v: f64| BOTTOM - (v / max).min(1.0) * (BOTTOM - TOP);
    let ticks = (0..3)
        .map(|i| f64::from(i) * step)
        .map(|v| Tick {
            y: n(scale(v)),
            label: unit(v),
        })
        .collect();
    let slot = (RIGHT - LEFT) / weeks.len().max(1) as f64;
    let group = slot * 0.72;
    let width = group / series.len().max(1) as f64;
    let mut bars = Vec::new();
    for (s, line) in series.iter().enumerate() {
        for (i, value) in line.values.iter().enumerate() {
            let Some(value) = value.filter(|v| *v > 0.0) else {
                continue;
            };
            let x = LEFT + slot * i as f64 + (slot - group) / 2.0 + width * s as f64;
            let y = scale(value);
            bars.push(Bar {
                x: n(x),
                y: n(y),
                width: n(width),
                height: n(BOTTOM - y),
                colour: COLOURS[s % COLOURS.len()],
            });
        }
    }
    // Every other week is named, ending with this one, so the names never run together.
    let last = weeks.len().saturating_sub(1);
    let labels = weeks
        .iter()
        .enumerate()
        .filter(|(i, _)| (last - i).is_multiple_of(2))
        .map(|(i, week)| Label {
            x: n(LEFT + slot * (i as f64 + 0.5)),
            text: week.format("%-d %b").to_string(),
        })
        .collect();
    let keys = series
        .iter()
        .enumerate()
        .map(|(s, line)| Key {
            x: n(LEFT + 200.0 * s as f64),
            text_x: n(LEFT + 200.0 * s as f64 + 22.0),
            name: line.name,
            colour: COLOURS[s % COLOURS.len()],
        })
        .collect();
    Chart {
        id,
        desc: describe(weeks, &series, unit),
        title,
        keys,
        ticks,
        bars,
        labels,
    }
}

/// The chart in one or two sentences: the weeks it covers and each series' highest week.
fn describe(weeks: &[NaiveDate], series: &[Series], unit: fn(f64) -> String) -> String {
    let (Some(first), Some(last)) = (weeks.first(), weeks.last()) else {
        return String::new();
    };
    let mut text = format!(
        "Weeks starting {} to {}.",
        first.format("%-d %b"),
        last.format("%-d %b %Y")
    );
    for line in series {
        let highest = line
            .values
            .iter()
            .zip(weeks)
            .filter_map(|(v, w)| v.map(|v| (v, w)))
            .fold(None::<(f64, &NaiveDate)>, |best, (v, w)| match best {
                Some((b, _)) if b >= v => best,
                _ => Some((v, w)),
            });
        match highest {
            Some((v, w)) => text.push_str(&format!(
                " {}: highest {} in the week starting {}.",
                line.name,
                unit(v),
                w.format("%-d %b")
            )),
            None => text.push_str(&format!(" {}: no data.", line.name)),
        }
    }
    text.push_str(" The table has every week's figures.");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weeks() -> Vec<NaiveDate> {
        (0..12)
            .map(|i| NaiveDate::from_ymd_opt(2026, 9, 7).unwrap() + chrono::Days::new(i * 7))
            .collect()
    }

    #[test]
    fn steps_are_round_and_reach_the_highest_value() {
        assert_eq!(step_for(0.0), 1.0);
        assert_eq!(step_for(7.0), 5.0);
        assert_eq!(step_for(14.0), 10.0);
        assert_eq!(step_for(3.0), 2.0);
        assert_eq!(step_for(450.0), 250.0);
    }

    #[test]
    fn counts_have_whole_gridlines() {
        let chart = bars(
            "c",
            "Questions".into(),
            &weeks(),
            vec![Series {
                name: "Questions",
                values: vec![Some(5.0); 12],
            }],
            None,
            true,
            |v| format!("{v}"),
        );
        let ticks: Vec<_> = chart.ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(ticks, ["0", "3", "6"]);
    }

    #[test]
    fn empty_and_zero_weeks_draw_no_bar_and_nothing_is_invented() {
        let mut values = vec![None; 12];
        values[3] = Some(0.0);
        values[10] = Some(4.0);
        let chart = bars(
            "c",
            "Questions".into(),
            &weeks(),
            vec![Series {
                name: "Questions",
                values,
            }],
            None,
            true,
            |v| format!("{v}"),
        );
        assert_eq!(chart.bars.len(), 1);
        assert_eq!(chart.ticks.len(), 3);
        assert_eq!(chart.ticks[2].label, "4");
        assert_eq!(chart.bars[0].y, n(TOP));
        assert!(chart.desc.contains("highest 4 in the week starting 16 Nov"));
        assert_eq!(chart.labels.len(), 6);
        assert_eq!(chart.labels.last().map(|l| l.text.as_str()), Some("23 Nov"));
    }

    #[test]
    fn a_chart_with_no_data_says_so() {
        let chart = bars(
            "c",
            "Time".into(),
            &weeks(),
            vec![Series {
                name: "Median",
                values: vec![None; 12],
            }],
            None,
            false,
            |v| format!("{v}"),
        );
        assert!(chart.bars.is_empty());
        assert!(chart.desc.contains("Median: no data."));
    }
}
