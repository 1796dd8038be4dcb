//! Charts as PDF, for LaTeX (`\includegraphics{latency-cdf.pdf}`): the chart's SVG parsed by usvg
//! and written by svg2pdf (typst's converter; pure Rust, no system library). Text stays text: the
//! embedded DejaVu Sans is handed to usvg as the only font, under the family the SVG names, and
//! svg2pdf embeds the glyphs used (a subset), so the PDF looks the same everywhere and its words
//! can be searched and copied.

use std::sync::{Arc, OnceLock};

use svg2pdf::usvg::{self, fontdb};

use super::ChartError;
use super::style::DEJAVU_SANS;

/// The font database every conversion uses: the embedded font alone, answering for the generic
/// `sans-serif` family the charts ask for (so no system font is looked up).
fn font_db() -> Arc<fontdb::Database> {
    static DB: OnceLock<Arc<fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = fontdb::Database::new();
        db.load_font_data(DEJAVU_SANS.to_vec());
        db.set_sans_serif_family("DejaVu Sans");
        Arc::new(db)
    })
    .clone()
}

/// The PDF of a chart's SVG text: one page of the SVG's size (1 px = 1/96 in, as CSS has it).
pub fn pdf_of(svg: &str) -> Result<Vec<u8>, ChartError> {
    let options = usvg::Options { fontdb: font_db(), font_family: "DejaVu Sans".into(), ..usvg::Options::default() };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| ChartError::Pdf(e.to_string()))?;
    let pdf = svg2pdf::to_pdf(&tree, svg2pdf::ConversionOptions::default(), svg2pdf::PageOptions::default())
        .map_err(|e| ChartError::Pdf(e.to_string()))?;
    Ok(sorted_dictionaries(pdf))
}

/// The PDF with the entries of each one-reference-per-line dictionary (`/xo5 18 0 R`) sorted.
/// svg2pdf writes resource dictionaries from a hash map, in an order that changes from process
/// to process; sorting makes the same chart the same bytes (netarch's outputs are deterministic).
/// Only lines are permuted within a dictionary, outside streams, so every object keeps its byte
/// offset and the cross-reference table stays valid.
fn sorted_dictionaries(mut pdf: Vec<u8>) -> Vec<u8> {
    let is_ref = |line: &[u8]| {
        let t = line.trim_ascii();
        t.first() == Some(&b'/') && t.ends_with(b" 0 R") && !t.contains(&b'<') && !t.contains(&b'[')
    };
    let mut at = 0;
    while at < pdf.len() {
        // Skip stream contents: they are data, not dictionaries.
        let next_stream = find(&pdf[at..], b"stream\n").map(|i| at + i);
        let end = next_stream.unwrap_or(pdf.len());
        let mut line_starts: Vec<usize> = vec![at];
        line_starts.extend((at..end).filter(|&i| pdf[i] == b'\n').map(|i| i + 1));
        let lines: Vec<(usize, usize)> =
            line_starts.windows(2).map(|w| (w[0], w[1])).filter(|(a, b)| a < b && *b <= end).collect();
        let mut i = 0;
        while i < lines.len() {
            if pdf[lines[i].0..lines[i].1].trim_ascii_end().ends_with(b"<<") {
                let run = lines[i + 1..].iter().take_while(|(a, b)| is_ref(&pdf[*a..*b])).count();
                if run > 1 {
                    let (from, to) = (lines[i + 1].0, lines[i + run].1);
                    let mut entries: Vec<Vec<u8>> =
                        lines[i + 1..=i + run].iter().map(|(a, b)| pdf[*a..*b].to_vec()).collect();
                    entries.sort();
                    pdf[from..to].copy_from_slice(&entries.concat());
                }
                i += run;
            }
            i += 1;
        }
        at = match next_stream {
            Some(s) => find(&pdf[s..], b"endstream").map_or(pdf.len(), |e| s + e + 9),
            None => pdf.len(),
        };
    }
    pdf
}

/// Where `needle` first occurs in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pdf_embeds_the_font_and_keeps_its_text() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="50" viewBox="0 0 200 50">
<text x="10" y="30" font-family="sans-serif" font-size="14">latency 1 min</text></svg>"#;
        let pdf = pdf_of(svg).expect("converts");
        assert!(pdf.starts_with(b"%PDF-"), "a PDF file");
        let has = |needle: &[u8]| pdf.windows(needle.len()).any(|w| w == needle);
        assert!(has(b"DejaVuSans"), "the embedded font is named in the PDF");
        assert!(has(b"/FontFile2"), "the font program is embedded, not referenced");
        assert!(has(b"/ToUnicode"), "the text maps back to characters (searchable, copyable)");
        assert!(pdf_of("not svg").is_err());
    }

    #[test]
    fn resource_entries_are_sorted_in_place() {
        let pdf = b"1 0 obj\n<<\n  /XObject <<\n    /xo2 9 0 R\n    /xo10 4 0 R\n    /xo1 7 0 R\n  >>\n>>\nstream\n<<\n/b 2 0 R\n/a 1 0 R\nendstream\n".to_vec();
        let sorted = sorted_dictionaries(pdf.clone());
        assert_eq!(sorted.len(), pdf.len(), "offsets are kept");
        let text = String::from_utf8(sorted).unwrap();
        assert!(text.contains("    /xo1 7 0 R\n    /xo10 4 0 R\n    /xo2 9 0 R\n"), "{text}");
        assert!(text.contains("/b 2 0 R\n/a 1 0 R\n"), "stream data is left alone: {text}");
    }
}
