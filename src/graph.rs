//! The voice flow as a picture: nodes and edges from the templates, written as Mermaid or DOT.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::templates::{Action, Flow};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Mermaid,
    Dot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Start,
    Decision,
    Menu,
    Step,
}

/// A flow as plain nodes and edges, so both formats draw the same thing.
#[derive(Debug, Default)]
struct Graph {
    nodes: Vec<(String, Shape, String)>,
    seen: BTreeSet<String>,
    edges: Vec<(String, String, String)>,
}

impl Graph {
    fn node(&mut self, id: &str, shape: Shape, label: String) {
        if self.seen.insert(id.to_owned()) {
            self.nodes.push((id.to_owned(), shape, label));
        }
    }

    fn edge(&mut self, from: &str, to: &str, label: impl Into<String>) {
        self.edges
            .push((from.to_owned(), to.to_owned(), label.into()));
    }
}

/// Draws `flow` in `format`.
pub fn render(flow: &Flow, format: Format) -> String {
    let g = build(flow);
    match format {
        Format::Mermaid => mermaid(&g),
        Format::Dot => dot(&g),
    }
}

fn menu_id(name: &str) -> String {
    format!("menu_{}", name.replace('-', "_"))
}

fn key_id(k: char) -> String {
    match k {
        '*' => "star".into(),
        '#' => "hash".into(),
        k => k.to_string(),
    }
}

fn build(flow: &Flow) -> Graph {
    let mut g = Graph::default();
    g.node("call", Shape::Start, "Incoming call".into());
    let start = menu_id(&flow.start);
    match &flow.hours {
        Some(h) => {
            g.node(
                "hours",
                Shape::Decision,
                format!("Open? {}", h.hours.describe()),
            );
            g.edge("call", "hours", "");
            g.edge("hours", &start, "open");
            let closed = action(&mut g, flow, &h.closed, "closed", None);
            g.edge("hours", &closed, "closed");
        }
        None => g.edge("call", &start, ""),
    }
    let final_id = "final";
    for (name, menu) in &flow.menus {
        let id = menu_id(name);
        let input = if menu.takes_speech() {
            "keys or speech"
        } else {
            "keys"
        };
        g.node(&id, Shape::Menu, format!("Menu {name} ({input})"));
        for (key, a) in &menu.options {
            let words: Vec<&str> = menu
                .keywords
                .iter()
                .filter(|(_, k)| k == key)
                .map(|(w, _)| w.as_str())
                .collect();
            let mut label = format!("press {key}");
            if !words.is_empty() {
                let _ = write!(label, " / say {}", words.join(", "));
            }
            let target = action(
                &mut g,
                flow,
                a,
                &format!("{id}_{}", key_id(*key)),
                Some(name),
            );
            g.edge(&id, &target, label);
        }
        let tries = flow.max_attempts;
        let target = action(&mut g, flow, &flow.final_action, final_id, Some(name));
        g.edge(&id, &target, format!("no choice after {tries} tries"));
    }
    g
}

/// Adds the node `action` leads to (a menu, a shared voicemail or hang-up, or its own node
/// `id`) and returns its id.
fn action(g: &mut Graph, flow: &Flow, a: &Action, id: &str, menu: Option<&str>) -> String {
    match a {
        Action::Menu { menu, .. } => menu_id(menu),
        Action::Language {
            language, menu: m, ..
        } => {
            let target = m.as_deref().or(menu).unwrap_or(&flow.start);
            let node = format!("{id}_lang");
            g.node(&node, Shape::Step, format!("Switch to {language}"));
            g.edge(&node, &menu_id(target), "");
            node
        }
        Action::Voicemail { .. } => {
            let vm = &flow.voicemail;
            let mut label = format!("Voicemail (up to {} s", vm.max_length);
            if vm.transcribe {
                label.push_str(", transcribed");
            }
            if vm.notify.is_some() {
                label.push_str(", staff texted");
            }
            label.push(')');
            g.node("voicemail", Shape::Step, label);
            "voicemail".into()
        }
        Action::Hangup { .. } => {
            g.node("hangup", Shape::Step, "Hang up".into());
            "hangup".into()
        }
        Action::Redirect { url } => {
            g.node(id, Shape::Step, format!("Redirect to {url}"));
            id.to_owned()
        }
        Action::Sms { body, .. } => {
            let text: String = body.get(&flow.default_language).chars().take(40).collect();
            g.node(id, Shape::Step, format!("Text the caller: {text}..."));
            id.to_owned()
        }
        Action::Dial(d) => {
            let how = match (d.numbers.len(), d.simultaneous) {
                (1, _) => String::new(),
                (_, true) => " (all at once)".into(),
                (_, false) => " (in turn)".into(),
            };
            g.node(
                id,
                Shape::Step,
                format!("Dial {}{how}", d.numbers.join(", ")),
            );
            g.node("connected", Shape::Step, "Connected, then hang up".into());
            g.edge(id, "connected", "answered");
            let fb = action(g, flow, &d.fallback, &format!("{id}_fallback"), menu);
            g.edge(id, &fb, "no answer, busy or failed");
            id.to_owned()
        }
    }
}

/// Mermaid's labels are quoted; a quote inside one is written as an entity.
fn mermaid_label(s: &str) -> String {
    s.replace('"', "#quot;")
}

fn mermaid(g: &Graph) -> String {
    let mut out = String::from("flowchart TD\n");
    for (id, shape, label) in &g.nodes {
        let label = mermaid_label(label);
        let _ = match shape {
            Shape::Start => writeln!(out, "    {id}([\"{label}\"])"),
            Shape::Decision => writeln!(out, "    {id}{{\"{label}\"}}"),
            Shape::Menu => writeln!(out, "    {id}[[\"{label}\"]]"),
            Shape::Step => writeln!(out, "    {id}[\"{label}\"]"),
        };
    }
    for (from, to, label) in &g.edges {
        let _ = if label.is_empty() {
            writeln!(out, "    {from} --> {to}")
        } else {
            writeln!(out, "    {from} -- \"{}\" --> {to}", mermaid_label(label))
        };
    }
    out
}

fn dot_label(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn dot(g: &Graph) -> String {
    let mut out = String::from(
        "digraph switchboard {\n    rankdir=TB;\n    node [fontname=\"Helvetica\"];\n",
    );
    for (id, shape, label) in &g.nodes {
        let shape = match shape {
            Shape::Start => "oval",
            Shape::Decision => "diamond",
            Shape::Menu => "box3d",
            Shape::Step => "box",
        };
        let _ = writeln!(
            out,
            "    {id} [shape={shape}, label=\"{}\"];",
            dot_label(label)
        );
    }
    for (from, to, label) in &g.edges {
        let _ = writeln!(out, "    {from} -> {to} [label=\"{}\"];", dot_label(label));
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::templates::Templates;

    fn flow() -> Flow {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        Templates::load_with_env(&dir, &|_| None).unwrap().voice
    }

    #[test]
    fn mermaid_draws_every_shipped_destination() {
        let m = render(&flow(), Format::Mermaid);
        assert!(m.starts_with("flowchart TD\n"), "{m}");
        for needle in [
            "call --> hours",
            "hours -- \"open\" --> menu_main",
            "hours -- \"closed\" --> voicemail",
            "menu_main -- \"press 1 / say sales, 销售\" --> menu_main_1",
            "menu_main_1[\"Dial +14155550100, +14155550110 (in turn)\"]",
            "menu_main_2[\"Dial +14155550101, +14155550102 (all at once)\"]",
            "menu_main_1 -- \"no answer, busy or failed\" --> voicemail",
            "menu_main_4[\"Text the caller: ",
            "menu_main_9_lang[\"Switch to zh-CN\"]",
            "menu_main_9_lang --> menu_main",
            "menu_main -- \"no choice after 3 tries\" --> voicemail",
            "voicemail[\"Voicemail (up to 120 s, transcribed)\"]",
        ] {
            assert!(m.contains(needle), "missing {needle:?} in\n{m}");
        }
    }

    #[test]
    fn dot_is_one_digraph_with_escaped_labels() {
        let mut f = flow();
        f.menus.get_mut("main").unwrap().options.insert(
            '7',
            Action::Redirect {
                url: "/say?\"hi\"".into(),
            },
        );
        let d = render(&f, Format::Dot);
        assert!(
            d.starts_with("digraph switchboard {\n") && d.ends_with("}\n"),
            "{d}"
        );
        assert!(d.contains(r#"label="Redirect to /say?\"hi\"""#), "{d}");
        assert!(
            d.contains("menu_main -> menu_main_1 [label=\"press 1 / say sales, 销售\"];"),
            "{d}"
        );
        let m = render(&f, Format::Mermaid);
        assert!(m.contains("Redirect to /say?#quot;hi#quot;"), "{m}");
    }
}
