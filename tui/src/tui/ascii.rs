//! Terminals without Unicode: every symbol the TUI draws has a one-column ASCII stand-in.

/// Safety net for terminals without Unicode: whatever non-ASCII text slipped through
/// (punctuation in messages, borders of widgets, user data) becomes a plain look-alike.
pub fn asciify(buffer: &mut ratatui::buffer::Buffer) {
    for cell in buffer.content.iter_mut() {
        let symbol = cell.symbol();
        if symbol.is_ascii() {
            continue;
        }
        let plain = ascii_look_alike(symbol).unwrap_or("?");
        cell.set_symbol(plain);
    }
}

/// The one-column ASCII stand-in of a symbol the TUI draws (None: no stand-in, shown `?`).
pub fn ascii_look_alike(symbol: &str) -> Option<&'static str> {
    Some(match symbol {
        "—" | "–" | "─" | "━" | "═" => "-",
        "│" | "┃" | "║" => "|",
        "┌" | "┐" | "└" | "┘" | "├" | "┤" | "┬" | "┴" | "┼" | "╭" | "╮" | "╰" | "╯" => {
            "+"
        }
        "·" | "•" | "●" | "◆" | "◇" => "*",
        "…" => "~",
        "▸" | "▶" | "→" | "≥" => ">",
        "◂" | "←" | "≤" => "<",
        "▾" | "▼" | "↓" => "v",
        "▲" | "↑" => "^",
        "█" | "▉" | "▊" | "▋" | "▌" | "▍" | "▎" | "▏" => "#",
        "✔" => "+",
        "✘" => "x",
        "⚠" => "!",
        "⊘" => "/",
        "⛔" => "X",
        "ℹ" => "i",
        "" => "",
        _ => return None,
    })
}
