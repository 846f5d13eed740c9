//! The keymap is data: a table of (screen, keys, command, help). Help overlays, the
//! command palette and `[tui.keys]` overrides all read the same table.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;
use std::fmt;

/// Where a binding applies. `Global` bindings apply everywhere unless a screen binds the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Global,
    History,
    Detail,
    Workflows,
    Graph,
    Credentials,
    Audit,
}

impl Context {
    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::History => "History",
            Context::Detail => "Run detail",
            Context::Workflows => "Workflows",
            Context::Graph => "Workflow graph",
            Context::Credentials => "Credentials",
            Context::Audit => "Audit log",
        }
    }
}

macro_rules! commands {
    ($($variant:ident => $name:literal),+ $(,)?) => {
        /// Everything a key can do. The names are what `[tui.keys]` and the palette use.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Command { $($variant),+ }

        impl Command {
            pub const ALL: &'static [Command] = &[$(Command::$variant),+];

            pub fn name(self) -> &'static str {
                match self { $(Command::$variant => $name),+ }
            }

            pub fn parse(name: &str) -> Option<Command> {
                Self::ALL.iter().copied().find(|c| c.name() == name)
            }
        }
    };
}

commands! {
    Quit => "quit",
    QuitNow => "quit-now",
    Back => "back",
    Help => "help",
    Palette => "palette",
    GoHistory => "go-history",
    GoWorkflows => "go-workflows",
    GoCredentials => "go-credentials",
    GoAudit => "go-audit",
    GoFailures => "go-failures",
    WorkflowHistory => "workflow-history",
    Up => "up",
    Down => "down",
    Top => "top",
    Bottom => "bottom",
    HalfPageDown => "half-page-down",
    HalfPageUp => "half-page-up",
    Open => "open",
    NextPane => "next-pane",
    Search => "search",
    SearchNext => "search-next",
    SearchPrev => "search-prev",
    Refresh => "refresh",
    Filter => "filter",
    Rerun => "rerun",
    RerunFrom => "rerun-from",
    Mark => "mark",
    MarkAllMatching => "mark-all-matching",
    Cancel => "cancel",
    SaveInput => "save-input",
    WriteFile => "write-file",
    EditJob => "edit-job",
    ExternalEdit => "edit-job-in-editor",
    Copy => "copy",
    Pager => "pager",
    Wrap => "wrap",
    Zoom => "zoom",
    NextTab => "next-tab",
    PrevTab => "prev-tab",
    Fold => "fold",
    NextRun => "next-run",
    PrevRun => "prev-run",
    LogLevel => "log-level",
    Follow => "follow",
    ToggleEnabled => "toggle-enabled",
    TriggerRun => "trigger-run",
    Versions => "versions",
    Constants => "constants",
    New => "new",
    Edit => "edit",
    Delete => "delete",
    Verify => "verify",
}

/// One key with its modifiers. Shift is implied by the character for letters and symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl KeySpec {
    pub fn parse(text: &str) -> Option<KeySpec> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = text.trim();
        loop {
            let lower = rest.to_ascii_lowercase();
            if rest.len() > 2 && (lower.starts_with("ctrl-") || lower.starts_with("ctrl+")) {
                ctrl = true;
                rest = &rest[5..];
            } else if rest.len() > 2 && (lower.starts_with("alt-") || lower.starts_with("alt+")) {
                alt = true;
                rest = &rest[4..];
            } else {
                break;
            }
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" | "shift-tab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            lower if lower.len() > 1 && lower.starts_with('f') => {
                KeyCode::F(lower[1..].parse().ok().filter(|n| (1..=12).contains(n))?)
            }
            _ => {
                let mut chars = rest.chars();
                let c = chars.next()?;
                if chars.next().is_some() {
                    return None;
                }
                KeyCode::Char(if ctrl { c.to_ascii_lowercase() } else { c })
            }
        };
        Some(KeySpec { code, ctrl, alt })
    }

    pub fn matches(&self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        if ctrl != self.ctrl || alt != self.alt {
            return false;
        }
        match (self.code, key.code) {
            (KeyCode::Char(a), KeyCode::Char(b)) if self.ctrl => a.eq_ignore_ascii_case(&b),
            (a, b) => a == b,
        }
    }
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("shift-Tab"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Binding {
    pub context: Context,
    pub keys: Vec<KeySpec>,
    pub command: Command,
    pub help: &'static str,
}

#[derive(Debug, Clone)]
pub struct Keymap {
    pub bindings: Vec<Binding>,
}

/// The default bindings: (context, keys, command, help).
const DEFAULTS: &[(Context, &str, Command, &str)] = {
    use Command::*;
    use Context::*;
    &[
        (Global, "q", Quit, "quit (on the top screen) / back"),
        (
            Global,
            "ctrl-c",
            QuitNow,
            "quit from any screen (asks only if an edit is unsaved)",
        ),
        (Global, "esc", Back, "back / close"),
        (Global, "?", Help, "show the keys of this screen"),
        (Global, ":", Palette, "command palette"),
        (Global, "1", GoHistory, "history of work orders"),
        (Global, "2", GoWorkflows, "workflows"),
        (Global, "3", GoCredentials, "credentials"),
        (Global, "4", GoAudit, "audit log: who did what"),
        (
            Global,
            "5",
            GoFailures,
            "failures of the last 24 hours, grouped",
        ),
        (Global, "k,up", Up, "move up"),
        (Global, "j,down", Down, "move down"),
        (Global, "g,home", Top, "go to top"),
        (Global, "G,end", Bottom, "go to bottom"),
        (Global, "ctrl-d,pgdn", HalfPageDown, "half a page down"),
        (Global, "ctrl-u,pgup", HalfPageUp, "half a page up"),
        (Global, "ctrl-r,F5", Refresh, "reload from boltd"),
        (History, "enter", Open, "open the work order"),
        (
            History,
            "r",
            Rerun,
            "rerun (marked rows, or this one) from the start",
        ),
        (History, "R", RerunFrom, "rerun from a chosen step"),
        (History, "space", Mark, "mark / unmark row"),
        (
            History,
            "A",
            MarkAllMatching,
            "select all matching the filter",
        ),
        (History, "x", Cancel, "cancel the work order"),
        (History, "/", Search, "search inputs, outputs and logs"),
        (History, "f", Filter, "edit the filter"),
        (History, "n", SearchNext, "next work order of the search"),
        (
            History,
            "N",
            SearchPrev,
            "previous work order of the search",
        ),
        (Detail, "tab", NextPane, "switch between steps and content"),
        (Detail, "l,right", NextTab, "next tab (input, output, logs)"),
        (Detail, "h,left", PrevTab, "previous tab"),
        (Detail, "]", NextRun, "older run"),
        (Detail, "[", PrevRun, "newer run"),
        (Detail, "space", Fold, "fold / unfold JSON"),
        (Detail, "/", Search, "search in this tab"),
        (Detail, "n", SearchNext, "next match"),
        (Detail, "N", SearchPrev, "previous match"),
        (Detail, "r", Rerun, "rerun from the start"),
        (Detail, "R", RerunFrom, "rerun from this step"),
        (Detail, "x", Cancel, "cancel the work order"),
        (
            Detail,
            "s",
            SaveInput,
            "save this step's input as a named input",
        ),
        (Detail, "w", WriteFile, "write the value to a file"),
        (
            Detail,
            "y",
            Copy,
            "copy the value or log line (OSC 52 clipboard, else a file)",
        ),
        (Detail, "|", Pager, "show this tab in $PAGER"),
        (Detail, "W", Wrap, "wrap long lines on / off"),
        (Detail, "z", Zoom, "show the value or log line whole"),
        (Detail, "e", EditJob, "edit this step's job"),
        (Detail, "E", ExternalEdit, "edit this step's job in $EDITOR"),
        (Detail, "L", LogLevel, "cycle the log level filter"),
        (Detail, "F", Follow, "follow the log while the run is live"),
        (Workflows, "enter", Open, "show the workflow graph"),
        (Workflows, "E", ToggleEnabled, "enable / disable"),
        (Workflows, "t", TriggerRun, "run by hand"),
        (Workflows, "H", WorkflowHistory, "history of this workflow"),
        (Workflows, "/", Search, "find a workflow"),
        (
            Workflows,
            "n",
            SearchNext,
            "next workflow named like the search",
        ),
        (
            Workflows,
            "N",
            SearchPrev,
            "previous workflow named like the search",
        ),
        (Graph, "e,enter", EditJob, "edit the selected job"),
        (
            Graph,
            "ctrl-o",
            ExternalEdit,
            "edit the selected job in $EDITOR",
        ),
        (Graph, "E", ToggleEnabled, "enable / disable the workflow"),
        (Graph, "t", TriggerRun, "run by hand"),
        (Graph, "H", WorkflowHistory, "history of this workflow"),
        (
            Graph,
            "v",
            Versions,
            "versions: diff, revert the workflow or the selected job",
        ),
        (Graph, "c", Constants, "edit the workflow's constants"),
        (Credentials, "n", New, "new credential"),
        (
            Credentials,
            "e,enter",
            Edit,
            "edit: change some fields, keep the others",
        ),
        (Credentials, "d", Delete, "remove"),
        (
            Audit,
            "/,f",
            Filter,
            "filter by actor, kind, workflow, credential, time",
        ),
        (Audit, "V", Verify, "verify the audit chain"),
    ]
};

impl Default for Keymap {
    fn default() -> Self {
        let bindings = DEFAULTS
            .iter()
            .map(|(context, keys, command, help)| Binding {
                context: *context,
                keys: parse_key_list(keys).unwrap_or_default(),
                command: *command,
                help,
            })
            .collect();
        Keymap { bindings }
    }
}

fn parse_key_list(text: &str) -> Option<Vec<KeySpec>> {
    text.split(',')
        .filter(|k| !k.trim().is_empty())
        .map(KeySpec::parse)
        .collect()
}

impl Keymap {
    /// Defaults with `[tui.keys]` overrides (`command = "key[,key]"`, or
    /// `"screen.command" = ...` for one screen). Returns warnings for entries it could not use.
    pub fn with_overrides(overrides: &BTreeMap<String, String>) -> (Keymap, Vec<String>) {
        let mut keymap = Keymap::default();
        let mut warnings = Vec::new();
        for (name, keys) in overrides {
            let (scope, command_name) = match name.split_once('.') {
                Some((scope, command)) => (Some(scope.to_ascii_lowercase()), command),
                None => (None, name.as_str()),
            };
            let Some(command) = Command::parse(command_name) else {
                warnings.push(format!("[tui.keys] unknown command '{name}'"));
                continue;
            };
            let Some(specs) = parse_key_list(keys) else {
                warnings.push(format!(
                    "[tui.keys] cannot read the key '{keys}' for '{name}'"
                ));
                continue;
            };
            let mut used = false;
            for binding in &mut keymap.bindings {
                let in_scope = scope
                    .as_deref()
                    .is_none_or(|s| format!("{:?}", binding.context).eq_ignore_ascii_case(s));
                if binding.command == command && in_scope {
                    binding.keys = specs.clone();
                    used = true;
                }
            }
            if !used {
                warnings.push(format!("[tui.keys] '{name}' is not bound on that screen"));
            }
        }
        (keymap, warnings)
    }

    /// The pure key → command function: the screen's own bindings first, then global ones.
    pub fn resolve(&self, context: Context, key: &KeyEvent) -> Option<Command> {
        let find = |ctx: Context| {
            self.bindings
                .iter()
                .find(|b| b.context == ctx && b.keys.iter().any(|k| k.matches(key)))
                .map(|b| b.command)
        };
        if context != Context::Global
            && let Some(command) = find(context)
        {
            return Some(command);
        }
        find(Context::Global)
    }

    /// Bindings shown in the help overlay and the palette for a screen: its own, then global.
    pub fn for_context(&self, context: Context) -> Vec<&Binding> {
        let own = self.bindings.iter().filter(|b| b.context == context);
        let global = self.bindings.iter().filter(|b| {
            b.context == Context::Global
                && !self
                    .bindings
                    .iter()
                    .any(|o| o.context == context && o.keys.iter().any(|k| b.keys.contains(k)))
        });
        own.chain(global).collect()
    }

    /// "r" or "k/↑": the keys of a command on a screen, for hints.
    pub fn keys_for(&self, context: Context, command: Command) -> String {
        self.bindings
            .iter()
            .find(|b| {
                b.command == command && (b.context == context || b.context == Context::Global)
            })
            .map(|b| {
                b.keys
                    .iter()
                    .map(|k| k.to_string())
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn screen_bindings_win_over_global_ones() {
        let keymap = Keymap::default();
        let space = key(KeyCode::Char(' '));
        assert_eq!(
            keymap.resolve(Context::History, &space),
            Some(Command::Mark)
        );
        assert_eq!(keymap.resolve(Context::Detail, &space), Some(Command::Fold));
        assert_eq!(
            keymap.resolve(Context::Workflows, &key(KeyCode::Char('j'))),
            Some(Command::Down)
        );
        assert_eq!(
            keymap.resolve(Context::Workflows, &key(KeyCode::Down)),
            Some(Command::Down)
        );
    }

    #[test]
    fn shifted_letters_and_ctrl_keys_resolve() {
        let keymap = Keymap::default();
        let shift_g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(
            keymap.resolve(Context::History, &shift_g),
            Some(Command::Bottom)
        );
        let ctrl_d = KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL);
        assert_eq!(
            keymap.resolve(Context::History, &ctrl_d),
            Some(Command::HalfPageDown)
        );
        // plain d on credentials is delete, ctrl-d is still half page
        assert_eq!(
            keymap.resolve(Context::Credentials, &key(KeyCode::Char('d'))),
            Some(Command::Delete)
        );
        assert_eq!(
            keymap.resolve(Context::Credentials, &ctrl_d),
            Some(Command::HalfPageDown)
        );
    }

    #[test]
    fn overrides_replace_keys_and_report_mistakes() {
        let mut overrides = BTreeMap::new();
        overrides.insert("rerun".to_string(), "ctrl-e".to_string());
        overrides.insert("history.mark".to_string(), "m".to_string());
        overrides.insert("frobnicate".to_string(), "z".to_string());
        overrides.insert("help".to_string(), "ctrl-".to_string());
        let (keymap, warnings) = Keymap::with_overrides(&overrides);
        let ctrl_e = KeyEvent::new(KeyCode::Char('e'), KeyModifiers::CONTROL);
        assert_eq!(
            keymap.resolve(Context::History, &ctrl_e),
            Some(Command::Rerun)
        );
        assert_eq!(
            keymap.resolve(Context::Detail, &ctrl_e),
            Some(Command::Rerun)
        );
        assert_eq!(
            keymap.resolve(Context::History, &key(KeyCode::Char('r'))),
            None
        );
        assert_eq!(
            keymap.resolve(Context::History, &key(KeyCode::Char('m'))),
            Some(Command::Mark)
        );
        assert_eq!(
            keymap.resolve(Context::Detail, &key(KeyCode::Char(' '))),
            Some(Command::Fold)
        );
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings.iter().any(|w| w.contains("frobnicate")));
    }

    #[test]
    fn key_specs_round_trip_through_text() {
        for text in ["ctrl-d", "G", "space", "Enter", "F5", "?", "shift-Tab"] {
            let spec = KeySpec::parse(text).unwrap();
            assert_eq!(KeySpec::parse(&spec.to_string()), Some(spec), "{text}");
        }
        assert_eq!(KeySpec::parse("ctrl-"), None);
        assert_eq!(KeySpec::parse("abc"), None);
    }

    #[test]
    fn help_lists_screen_keys_then_unshadowed_global_keys() {
        let keymap = Keymap::default();
        let help = keymap.for_context(Context::History);
        assert_eq!(help[0].command, Command::Open);
        assert!(help.iter().any(|b| b.command == Command::Quit));
        assert!(help.iter().any(|b| b.command == Command::Filter));
    }
}
