//! `--report FILE.html`: one self-contained page (styles, scripts and data
//! inline; nothing loaded from the network) that shows a run — each
//! workload's convergence over simulated time, the fleet by zone and node
//! at any step, pending replicas with every node's verdict, a what-if's
//! blast radius, the events. The page draws on canvases from compact data
//! (`data`), so it stays usable at 5,000 nodes and 150,000 replicas.

pub mod autoscalers;
pub mod data;

pub use data::{Data, Recorder};

const STYLE: &str = include_str!("assets/report.css");
const SCRIPT: &str = include_str!("assets/report.js");
/// The HPAs' panels: a function `SCRIPT` calls, declared first in the one script.
const AUTOSCALERS: &str = include_str!("assets/autoscalers.js");

/// The page for `data`.
pub fn html(data: &Data) -> String {
    let json = serde_json::to_string(data).unwrap_or_else(|_| "{}".to_string());
    // Inside a <script> element: no `<` may open a tag (`\u003c` is JSON for it).
    let json = json.replace('<', "\\u003c");
    let title = escape(&data.title);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n\
         <noscript>This report draws with JavaScript.</noscript>\n\
         <main id=\"app\"></main>\n\
         <script id=\"orch-data\" type=\"application/json\">{json}</script>\n\
         <script>\n{AUTOSCALERS}{SCRIPT}</script>\n</body>\n</html>\n"
    )
}

/// Text for HTML: `&`, `<`, `>` and quotes escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_self_contained_and_its_data_cannot_close_the_script() {
        let data = Data {
            title: "orch plan <x>".to_string(),
            summary: "</script><script>alert(1)</script>".to_string(),
            ..Data::default()
        };
        let page = html(&data);
        assert!(page.contains("<title>orch plan &lt;x&gt;</title>"));
        assert_eq!(page.matches("</script>").count(), 2, "{page}");
        for remote in ["http://", "https://", "src=", "@import"] {
            assert!(!page.contains(remote), "{remote} in the page");
        }
        let start = page.find("application/json\">").unwrap() + 18;
        let end = start + page[start..].find("</script>").unwrap();
        let back: serde_json::Value = serde_json::from_str(&page[start..end]).unwrap();
        assert_eq!(back["summary"], "</script><script>alert(1)</script>");
    }
}
