//! Reading JSON-line frames with a size cap that survives oversized or garbage input.

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

pub enum Frame {
    Line(Vec<u8>),
    /// A frame over the cap; its bytes were skipped up to the next newline.
    TooLarge(usize),
    Closed,
}

/// Reads up to the next `\n`, never buffering more than `cap` bytes of one frame.
pub async fn read_frame<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    cap: usize,
) -> std::io::Result<Frame> {
    let mut line = Vec::new();
    let mut skipped = 0usize;
    loop {
        let chunk = reader.fill_buf().await?;
        if chunk.is_empty() {
            return Ok(if line.is_empty() && skipped == 0 {
                Frame::Closed
            } else if skipped > 0 {
                Frame::TooLarge(skipped)
            } else {
                Frame::Line(line)
            });
        }
        let (take, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(at) => (at + 1, true),
            None => (chunk.len(), false),
        };
        if skipped > 0 || line.len() + take > cap + 1 {
            skipped += line.len() + take;
            line.clear();
        } else {
            line.extend_from_slice(&chunk[..take]);
        }
        reader.consume(take);
        if done {
            return Ok(if skipped > 0 {
                Frame::TooLarge(skipped)
            } else {
                Frame::Line(line)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn oversized_frame_is_skipped_and_next_frame_reads() {
        let mut data: Vec<u8> = vec![b'x'; 100];
        data.extend_from_slice(b"\n{\"ok\":1}\n");
        let mut reader = tokio::io::BufReader::with_capacity(16, &data[..]);
        assert!(matches!(
            read_frame(&mut reader, 10).await.unwrap(),
            Frame::TooLarge(101)
        ));
        match read_frame(&mut reader, 10).await.unwrap() {
            Frame::Line(line) => assert_eq!(line, b"{\"ok\":1}\n"),
            _ => panic!("expected a line"),
        }
        assert!(matches!(
            read_frame(&mut reader, 10).await.unwrap(),
            Frame::Closed
        ));
    }
}
