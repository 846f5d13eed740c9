//! A workflow drawn as a tree of boxes: triggers at the top, each job with the jobs it leads
//! to, edges labelled in words ("on success", "on failure", "if …"). A job reached twice is
//! drawn once and referred to the second time.

use crate::tui::theme::{Theme, Tone};
use bolt_shared::model::{ConditionType, EdgeView, JobView, TriggerType, WorkflowView};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use std::collections::HashSet;
use unicode_width::UnicodeWidthStr;

/// One drawn line and, when it shows a job's name, which job.
pub struct GraphLine {
    pub line: Line<'static>,
    pub job: Option<String>,
}

struct Glyphs {
    h: &'static str,
    v: &'static str,
    tl: &'static str,
    tr: &'static str,
    bl: &'static str,
    br: &'static str,
    tee: &'static str,
    corner: &'static str,
    arrow: &'static str,
    down: &'static str,
    trigger: &'static str,
}

const UNICODE: Glyphs = Glyphs {
    h: "─",
    v: "│",
    tl: "┌",
    tr: "┐",
    bl: "└",
    br: "┘",
    tee: "├",
    corner: "└",
    arrow: "▶",
    down: "▼",
    trigger: "◇",
};
const ASCII: Glyphs = Glyphs {
    h: "-",
    v: "|",
    tl: "+",
    tr: "+",
    bl: "+",
    br: "+",
    tee: "+",
    corner: "`",
    arrow: ">",
    down: "v",
    trigger: "*",
};

pub fn edge_label(edge: &EdgeView) -> String {
    let mut text = match (&edge.label, edge.condition) {
        (Some(label), _) if !label.is_empty() => label.clone(),
        (_, ConditionType::Always) => "always".into(),
        (_, ConditionType::OnJobSuccess) => "on success".into(),
        (_, ConditionType::OnJobFailure) => "on failure".into(),
        (_, ConditionType::JsExpression) => {
            let expression = edge.expression.clone().unwrap_or_default();
            let short: String = expression.chars().take(24).collect();
            if short.len() < expression.len() {
                format!("if {short}…")
            } else {
                format!("if {short}")
            }
        }
    };
    if !edge.enabled {
        text.push_str(" (off)");
    }
    text
}

pub fn trigger_text(workflow: &WorkflowView) -> Vec<String> {
    workflow
        .triggers
        .iter()
        .map(|t| match t.kind {
            TriggerType::Webhook => {
                let path = t
                    .webhook_url
                    .clone()
                    .or_else(|| t.custom_path.clone())
                    .unwrap_or_else(|| format!("/i/{}", t.id));
                format!("webhook {path}")
            }
            TriggerType::Cron => {
                let expr = t.cron_expression.clone().unwrap_or_default();
                match &t.cron_description {
                    Some(words) => format!("cron \"{expr}\" — {words}"),
                    None => format!("cron \"{expr}\""),
                }
            }
        })
        .collect()
}

struct Drawer<'a> {
    workflow: &'a WorkflowView,
    g: &'a Glyphs,
    theme: &'a Theme,
    selected: Option<&'a str>,
    drawn: HashSet<String>,
    out: Vec<GraphLine>,
}

impl Drawer<'_> {
    fn job(&self, id: &str) -> Option<&JobView> {
        self.workflow
            .jobs
            .iter()
            .find(|j| j.id == id || j.key == id)
    }

    fn children(&self, job_id: &str) -> Vec<&EdgeView> {
        self.workflow
            .edges
            .iter()
            .filter(|e| e.source_job.as_deref() == Some(job_id))
            .collect()
    }

    fn push(&mut self, spans: Vec<Span<'static>>, job: Option<String>) {
        self.out.push(GraphLine {
            line: Line::from(spans),
            job,
        });
    }

    /// The three lines of a job box; `prefixes` are what goes left of each line.
    fn draw_box(&mut self, job: &JobView, prefixes: [Vec<Span<'static>>; 3]) {
        let g = self.g;
        let name = job.name.clone();
        let inner = name.width() + 2;
        let selected = self.selected == Some(job.id.as_str());
        let name_style = if selected {
            self.theme.selected().add_modifier(Modifier::BOLD)
        } else {
            self.theme.title()
        };
        let border = if selected {
            Style::default().add_modifier(Modifier::BOLD)
        } else {
            Style::default()
        };
        let [top, middle, bottom] = prefixes;
        let mut line = top;
        line.push(Span::styled(
            format!("{}{}{}", g.tl, g.h.repeat(inner), g.tr),
            border,
        ));
        self.push(line, None);
        let mut line = middle;
        line.push(Span::styled(g.v.to_string(), border));
        line.push(Span::styled(format!(" {name} "), name_style));
        line.push(Span::styled(g.v.to_string(), border));
        let adaptor = job.adaptor.trim_start_matches("@openfn/language-");
        line.push(Span::styled(
            format!(" {adaptor}"),
            self.theme.tone(Tone::Muted),
        ));
        if job.credential.is_some() {
            line.push(Span::styled(" (credential)", self.theme.tone(Tone::Muted)));
        }
        self.push(line, Some(job.id.clone()));
        let mut line = bottom;
        line.push(Span::styled(
            format!("{}{}{}", g.bl, g.h.repeat(inner), g.br),
            border,
        ));
        self.push(line, None);
    }

    /// Draws `job` (already boxed by the caller) followed by its subtree, indented by `prefix`.
    fn subtree(&mut self, job_id: &str, prefix: &str) {
        let edges: Vec<EdgeView> = self.children(job_id).into_iter().cloned().collect();
        if edges.is_empty() {
            return;
        }
        let labels: Vec<String> = edges.iter().map(edge_label).collect();
        let label_width = labels.iter().map(|l| l.width()).max().unwrap_or(0);
        let muted = self.theme.tone(Tone::Muted);
        let g = self.g;
        for (index, (edge, label)) in edges.iter().zip(&labels).enumerate() {
            let last = index + 1 == edges.len();
            let connector = format!(
                "  {}{} {label:<label_width$} {}{} ",
                if last { g.corner } else { g.tee },
                g.h,
                g.h.repeat(2),
                g.arrow
            );
            let through = format!(
                "  {}{}",
                g.v,
                " ".repeat(connector.width().saturating_sub(3))
            );
            let after = if last {
                " ".repeat(connector.width())
            } else {
                through.clone()
            };
            let tone = match edge.condition {
                ConditionType::OnJobFailure => Tone::Bad,
                ConditionType::OnJobSuccess => Tone::Good,
                _ => Tone::Muted,
            };
            let target = edge.target_job.clone();
            let Some(job) = self.job(&target).cloned() else {
                continue;
            };
            let connector_spans = vec![
                Span::styled(prefix.to_string(), muted),
                Span::styled(connector.clone(), self.theme.tone(tone)),
            ];
            if !self.drawn.insert(target.clone()) {
                let mut spans = connector_spans;
                let up = if self.theme.ascii { "^" } else { "↑" };
                spans.push(Span::styled(
                    format!("{up} {} (drawn above)", job.name),
                    self.theme.title(),
                ));
                self.push(spans, Some(job.id.clone()));
                continue;
            }
            self.draw_box(
                &job,
                [
                    vec![Span::styled(format!("{prefix}{through}"), muted)],
                    connector_spans,
                    vec![Span::styled(format!("{prefix}{after}"), muted)],
                ],
            );
            self.subtree(&target, &format!("{prefix}{after}"));
        }
    }
}

/// Draws the whole workflow; `selected` is the job id to highlight.
pub fn draw_graph(
    workflow: &WorkflowView,
    selected: Option<&str>,
    theme: &Theme,
) -> Vec<GraphLine> {
    let g = if theme.ascii { &ASCII } else { &UNICODE };
    let mut drawer = Drawer {
        workflow,
        g,
        theme,
        selected,
        drawn: HashSet::new(),
        out: Vec::new(),
    };
    let triggers = trigger_text(workflow);
    for (trigger, text) in workflow.triggers.iter().zip(triggers) {
        let off = if trigger.enabled { "" } else { "  (off)" };
        drawer.push(
            vec![Span::styled(
                format!(" {} {text}{off}", g.trigger),
                theme.tone(Tone::Accent),
            )],
            None,
        );
        let edges: Vec<EdgeView> = workflow
            .edges
            .iter()
            // Edges name their trigger by id or by key, depending on where the view was built.
            .filter(|e| {
                e.source_trigger
                    .as_deref()
                    .is_some_and(|t| t == trigger.id || t == trigger.key)
            })
            .cloned()
            .collect();
        for edge in edges {
            drawer.push(
                vec![Span::styled(
                    format!(" {} {}", g.v, edge_label(&edge)),
                    theme.tone(Tone::Muted),
                )],
                None,
            );
            drawer.push(
                vec![Span::styled(
                    format!(" {}", g.down),
                    theme.tone(Tone::Muted),
                )],
                None,
            );
            if let Some(job) = drawer.job(&edge.target_job).cloned()
                && drawer.drawn.insert(job.id.clone())
            {
                drawer.draw_box(
                    &job,
                    [
                        vec![Span::raw(" ")],
                        vec![Span::raw(" ")],
                        vec![Span::raw(" ")],
                    ],
                );
                drawer.subtree(&job.id, " ");
            }
        }
        drawer.push(vec![], None);
    }
    // Jobs nothing leads to (yet) still deserve a box.
    let orphans: Vec<JobView> = workflow
        .jobs
        .iter()
        .filter(|j| !drawer.drawn.contains(&j.id))
        .cloned()
        .collect();
    for job in orphans {
        if drawer.drawn.insert(job.id.clone()) {
            drawer.push(
                vec![Span::styled(
                    " (not connected to a trigger)",
                    theme.tone(Tone::Muted),
                )],
                None,
            );
            drawer.draw_box(
                &job,
                [
                    vec![Span::raw(" ")],
                    vec![Span::raw(" ")],
                    vec![Span::raw(" ")],
                ],
            );
            drawer.subtree(&job.id, " ");
        }
    }
    drawer.out
}

/// Job ids in drawing order (for moving the selection).
pub fn job_order(workflow: &WorkflowView, theme: &Theme) -> Vec<String> {
    let mut seen = Vec::new();
    for line in draw_graph(workflow, None, theme) {
        if let Some(job) = line.job
            && !seen.contains(&job)
        {
            seen.push(job);
        }
    }
    seen
}
