//! Colours and symbols. Every state has a symbol and a word so meaning survives NO_COLOR,
//! monochrome terminals and terminals without Unicode.

use bolt_shared::model::{ExitReason, LogLevel, WorkOrderState};
use ratatui::style::{Color, Modifier, Style};

/// How much colour to use. `Auto` honours the `NO_COLOR` convention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorMode {
    #[default]
    Auto,
    /// 256-colour accents.
    Full,
    /// The 16 basic ANSI colours only (SGR 30–37, 90–97): no 256-colour codes.
    Reduced,
    /// No colour at all: symbols, bold and reverse video carry the meaning.
    None,
}

impl std::str::FromStr for ColorMode {
    type Err = String;

    /// Reads `[tui] color` from bolt.toml: `auto`, `full`, `reduced` or `none`.
    fn from_str(text: &str) -> Result<ColorMode, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(ColorMode::Auto),
            "full" => Ok(ColorMode::Full),
            "reduced" | "16" | "basic" => Ok(ColorMode::Reduced),
            "none" | "off" | "no" | "mono" => Ok(ColorMode::None),
            other => Err(format!(
                "unknown [tui] color '{other}': expected auto, full, reduced or none"
            )),
        }
    }
}

impl ColorMode {
    /// Resolves `Auto` against the environment (`NO_COLOR` set and non-empty → no colour).
    pub fn resolve(self, no_color_env: Option<&str>) -> ColorMode {
        match self {
            ColorMode::Auto if no_color_env.is_some_and(|v| !v.is_empty()) => ColorMode::None,
            ColorMode::Auto => ColorMode::Full,
            other => other,
        }
    }
}

/// The semantic tone of a piece of text; the theme maps tones to styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Bad,
    Warn,
    Muted,
    Live,
    Waiting,
    Accent,
}

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: ColorMode,
    pub ascii: bool,
}

impl Theme {
    pub fn new(color: ColorMode, ascii: bool) -> Self {
        Theme {
            color: color.resolve(std::env::var("NO_COLOR").ok().as_deref()),
            ascii,
        }
    }

    pub fn tone(&self, tone: Tone) -> Style {
        let color = match (self.color, tone) {
            (ColorMode::None | ColorMode::Auto, _) => {
                // Monochrome: only failures get a modifier so they still stand out.
                return match tone {
                    Tone::Bad => Style::default().add_modifier(Modifier::BOLD),
                    Tone::Muted => Style::default().add_modifier(Modifier::DIM),
                    _ => Style::default(),
                };
            }
            (_, Tone::Good) => Color::Green,
            (_, Tone::Bad) => Color::Red,
            (_, Tone::Warn) => Color::Yellow,
            (ColorMode::Full, Tone::Muted) => Color::Indexed(245),
            (_, Tone::Muted) => Color::DarkGray,
            (_, Tone::Live) => Color::Cyan,
            (_, Tone::Waiting) => Color::Blue,
            (_, Tone::Accent) => Color::Magenta,
        };
        let style = Style::default().fg(color);
        if tone == Tone::Bad {
            style.add_modifier(Modifier::BOLD)
        } else {
            style
        }
    }

    pub fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }

    pub fn title(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }

    /// A search match: reverse video works in every mode; colour adds to it.
    pub fn matched(&self) -> Style {
        match self.color {
            ColorMode::None | ColorMode::Auto => {
                Style::default().add_modifier(Modifier::UNDERLINED | Modifier::BOLD)
            }
            _ => Style::default().fg(Color::Black).bg(Color::Yellow),
        }
    }

    pub fn key(&self) -> Style {
        self.tone(Tone::Accent).add_modifier(Modifier::BOLD)
    }

    /// The failure mark of the status line.
    pub fn cross(&self) -> &'static str {
        if self.ascii { "x" } else { "✘" }
    }

    pub fn pointer(&self) -> &'static str {
        if self.ascii { ">" } else { "▸" }
    }

    pub fn arrow(&self) -> &'static str {
        if self.ascii { ">" } else { "▸" }
    }

    pub fn mark(&self) -> &'static str {
        if self.ascii { "*" } else { "◆" }
    }

    pub fn fold_open(&self) -> &'static str {
        if self.ascii { "v" } else { "▾" }
    }

    pub fn fold_closed(&self) -> &'static str {
        if self.ascii { ">" } else { "▸" }
    }

    pub fn dot(&self, connected: bool) -> &'static str {
        match (self.ascii, connected) {
            (true, true) => "(ok)",
            (true, false) => "(down)",
            (false, true) => "●",
            (false, false) => "○",
        }
    }

    pub fn work_order_state(&self, state: WorkOrderState) -> (&'static str, Tone) {
        use WorkOrderState as S;
        let (unicode, ascii, tone) = match state {
            S::Success => ("✔", "ok", Tone::Good),
            S::Failed => ("✘", "FAIL", Tone::Bad),
            S::Crashed | S::Killed | S::Exception => ("⚠", "!!", Tone::Warn),
            S::Cancelled => ("⊘", "--", Tone::Muted),
            S::Lost => ("?", "??", Tone::Accent),
            S::Running => ("●", "*", Tone::Live),
            S::Pending => ("…", "..", Tone::Waiting),
            S::Rejected => ("⛔", "XX", Tone::Bad),
        };
        (if self.ascii { ascii } else { unicode }, tone)
    }

    /// "✘ failed" with its style.
    pub fn state_label(&self, state: WorkOrderState) -> (String, Style) {
        let (symbol, tone) = self.work_order_state(state);
        (format!("{symbol} {state}"), self.tone(tone))
    }

    /// Symbol for a step: not finished yet, or by its exit reason.
    pub fn step_symbol(&self, reason: Option<ExitReason>) -> (&'static str, Tone) {
        match reason {
            None => self.work_order_state(WorkOrderState::Running),
            Some(reason) => self.work_order_state(WorkOrderState::from_run(reason.run_state())),
        }
    }

    pub fn log_level(&self, level: LogLevel) -> Style {
        match level {
            LogLevel::Error => self.tone(Tone::Bad),
            LogLevel::Warn => self.tone(Tone::Warn),
            LogLevel::Debug => self.tone(Tone::Muted),
            LogLevel::Success => self.tone(Tone::Good),
            LogLevel::Info | LogLevel::Always => Style::default(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn no_color_env_turns_auto_into_none() {
        assert_eq!(ColorMode::Auto.resolve(Some("1")), ColorMode::None);
        assert_eq!(ColorMode::Auto.resolve(Some("")), ColorMode::Full);
        assert_eq!(ColorMode::Auto.resolve(None), ColorMode::Full);
        assert_eq!(ColorMode::Reduced.resolve(Some("1")), ColorMode::Reduced);
    }

    #[test]
    fn color_modes_read_from_config_text() {
        assert_eq!("Reduced".parse::<ColorMode>(), Ok(ColorMode::Reduced));
        assert_eq!("none".parse::<ColorMode>(), Ok(ColorMode::None));
        assert!(
            "loud"
                .parse::<ColorMode>()
                .unwrap_err()
                .contains("auto, full")
        );
    }

    #[test]
    fn every_state_has_a_symbol_in_both_sets() {
        for ascii in [false, true] {
            let theme = Theme {
                color: ColorMode::None,
                ascii,
            };
            for state in WorkOrderState::ALL {
                let (label, _) = theme.state_label(*state);
                assert!(label.contains(state.as_str()), "{label}");
                assert!(label.len() > state.as_str().len() + 1, "{label}");
                if ascii {
                    assert!(label.is_ascii(), "{label}");
                }
            }
        }
    }
}
