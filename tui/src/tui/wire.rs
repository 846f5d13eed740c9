//! What goes down the wire: a ratatui backend that writes the changed cells itself, so
//! that colours are the 16 basic SGR codes where the theme uses named colours (crossterm
//! writes every colour as a 256-colour code) and blank row ends are one erase-to-end-of-line
//! instead of a run of spaces. Everything else is crossterm's.

use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use ratatui::style::{Color, Modifier};
use std::io::{self, Write};

/// Blank row ends shorter than this are cheaper written as spaces than erased (EL is 3
/// bytes); blanks inside a row cost an ECH and a cursor move (about 14 bytes).
const MIN_ERASE_TO_END: usize = 4;
const MIN_ERASE_INSIDE: usize = 16;

pub struct WireBackend<W: Write> {
    inner: CrosstermBackend<W>,
    /// The width to erase against when the writer is not a terminal (measurements).
    fixed_width: Option<u16>,
}

impl<W: Write> WireBackend<W> {
    pub fn new(writer: W) -> Self {
        WireBackend {
            inner: CrosstermBackend::new(writer),
            fixed_width: None,
        }
    }

    /// For a writer that is not the terminal: rows are `width` wide.
    pub fn with_width(writer: W, width: u16) -> Self {
        WireBackend {
            inner: CrosstermBackend::new(writer),
            fixed_width: Some(width),
        }
    }

    fn width(&self) -> io::Result<u16> {
        match self.fixed_width {
            Some(width) => Ok(width),
            None => self.inner.size().map(|s| s.width),
        }
    }
}

/// The pen: what the terminal draws with after the last SGR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pen {
    fg: Color,
    bg: Color,
    modifier: Modifier,
}

const PLAIN: Pen = Pen {
    fg: Color::Reset,
    bg: Color::Reset,
    modifier: Modifier::empty(),
};

/// A cell that looks like an erased one: a space on the default background, with nothing
/// that shows on a space (reverse video, underline, strike-through). Its foreground colour
/// and boldness do not show.
fn is_blank(cell: &Cell) -> bool {
    cell.symbol() == " "
        && cell.bg == Color::Reset
        && !cell
            .modifier
            .intersects(Modifier::REVERSED | Modifier::UNDERLINED | Modifier::CROSSED_OUT)
}

/// SGR parameters for a colour: basic and bright codes for named colours, 256-colour and
/// true-colour codes only for colours that are given that way.
fn color_code(color: Color, background: bool) -> String {
    let base = |n: u8| (if background { n + 10 } else { n }).to_string();
    match color {
        Color::Reset => base(39),
        Color::Black => base(30),
        Color::Red => base(31),
        Color::Green => base(32),
        Color::Yellow => base(33),
        Color::Blue => base(34),
        Color::Magenta => base(35),
        Color::Cyan => base(36),
        Color::Gray => base(37),
        Color::DarkGray => base(90),
        Color::LightRed => base(91),
        Color::LightGreen => base(92),
        Color::LightYellow => base(93),
        Color::LightBlue => base(94),
        Color::LightMagenta => base(95),
        Color::LightCyan => base(96),
        Color::White => base(97),
        Color::Indexed(n) => format!("{};5;{n}", if background { 48 } else { 38 }),
        Color::Rgb(r, g, b) => format!("{};2;{r};{g};{b}", if background { 48 } else { 38 }),
    }
}

const MODIFIER_CODES: [(Modifier, u8); 9] = [
    (Modifier::BOLD, 1),
    (Modifier::DIM, 2),
    (Modifier::ITALIC, 3),
    (Modifier::UNDERLINED, 4),
    (Modifier::SLOW_BLINK, 5),
    (Modifier::RAPID_BLINK, 6),
    (Modifier::REVERSED, 7),
    (Modifier::HIDDEN, 8),
    (Modifier::CROSSED_OUT, 9),
];

/// The SGR sequence that turns pen `from` into `to` (empty when they are the same).
fn sgr(from: Pen, to: Pen) -> String {
    if from == to {
        return String::new();
    }
    let mut codes: Vec<String> = Vec::new();
    let mut from = from;
    if !(from.modifier - to.modifier).is_empty() {
        // Attributes only come off together cheaply: start from plain.
        codes.push("0".into());
        from = PLAIN;
    }
    for (modifier, code) in MODIFIER_CODES {
        if to.modifier.contains(modifier) && !from.modifier.contains(modifier) {
            codes.push(code.to_string());
        }
    }
    if to.fg != from.fg {
        codes.push(color_code(to.fg, false));
    }
    if to.bg != from.bg {
        codes.push(color_code(to.bg, true));
    }
    if codes.is_empty() {
        return String::new();
    }
    format!("\x1b[{}m", codes.join(";"))
}

/// How many cells from `start` on are blank, plain and side by side on one row.
fn blank_run(cells: &[(u16, u16, &Cell)], start: usize) -> usize {
    let (mut x, y, _) = cells[start];
    let mut length = 0;
    for (cx, cy, cell) in &cells[start..] {
        if *cy != y || *cx != x || !is_blank(cell) {
            break;
        }
        length += 1;
        x += 1;
    }
    length
}

impl<W: Write> Backend for WireBackend<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let cells: Vec<(u16, u16, &Cell)> = content.collect();
        let width = self.width()?;
        let mut out = Vec::with_capacity(cells.len() * 2);
        let mut pen = PLAIN;
        let mut last: Option<(u16, u16)> = None;
        let mut index = 0;
        while index < cells.len() {
            let (x, y, cell) = cells[index];
            if !matches!(last, Some((lx, ly)) if ly == y && lx + 1 == x) {
                write!(out, "\x1b[{};{}H", y + 1, x + 1)?;
            }
            let run = blank_run(&cells, index);
            let to_end = x as usize + run >= width as usize;
            if run >= MIN_ERASE_INSIDE || (to_end && run >= MIN_ERASE_TO_END) {
                // Erasing paints the current background: erase with the plain pen. To the
                // row's end: EL; inside a row: ECH (the cursor stays, so the next cell moves).
                out.extend_from_slice(sgr(pen, PLAIN).as_bytes());
                pen = PLAIN;
                if to_end {
                    out.extend_from_slice(b"\x1b[K");
                } else {
                    write!(out, "\x1b[{run}X")?;
                }
                last = None;
                index += run;
                continue;
            }
            last = Some((x, y));
            let next = Pen {
                fg: cell.fg,
                bg: cell.bg,
                modifier: cell.modifier,
            };
            out.extend_from_slice(sgr(pen, next).as_bytes());
            pen = next;
            out.extend_from_slice(cell.symbol().as_bytes());
            index += 1;
        }
        out.extend_from_slice(sgr(pen, PLAIN).as_bytes());
        io::Write::write_all(&mut self.inner, &out)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.inner.show_cursor()
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        self.inner.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.inner.set_cursor_position(position)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        self.inner.size()
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        self.inner.window_size()
    }

    fn flush(&mut self) -> io::Result<()> {
        Backend::flush(&mut self.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct SharedBuf(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

    impl Write for SharedBuf {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn named_colours_are_basic_sgr_codes() {
        let red = Pen {
            fg: Color::Red,
            ..PLAIN
        };
        assert_eq!(sgr(PLAIN, red), "\x1b[31m");
        let muted = Pen {
            fg: Color::DarkGray,
            bg: Color::Yellow,
            modifier: Modifier::BOLD,
        };
        assert_eq!(sgr(red, muted), "\x1b[1;90;43m");
        assert_eq!(sgr(muted, red), "\x1b[0;31m");
        let indexed = Pen {
            fg: Color::Indexed(245),
            ..PLAIN
        };
        assert_eq!(sgr(PLAIN, indexed), "\x1b[38;5;245m");
    }

    #[test]
    fn blank_runs_are_erased_not_written() {
        let text = Cell::new("x");
        let blank = Cell::new(" ");
        let mut cells = vec![(0, 0, &text)];
        for x in 1..20 {
            cells.push((x, 0, &blank));
        }
        cells.push((0, 1, &blank));
        cells.push((19, 1, &blank));
        for x in 0..16 {
            cells.push((x, 2, &blank));
        }
        cells.push((16, 2, &text));
        let buffer = SharedBuf::default();
        let mut wire = WireBackend::with_width(buffer.clone(), 20);
        wire.draw(cells.into_iter()).unwrap_or_default();
        let written = String::from_utf8_lossy(&buffer.0.borrow()).into_owned();
        assert_eq!(
            written,
            "\x1b[1;1Hx\x1b[K\x1b[2;1H \x1b[2;20H \x1b[3;1H\x1b[16X\x1b[3;17Hx"
        );
    }
}
