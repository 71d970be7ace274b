//! HTML building blocks of the report pages: escaping, links to case
//! directories, the sortable table with its small inline script, and the
//! page frame (inline CSS, no external resource of any kind). Knows
//! nothing of results directories.

use std::path::Path;

/// At most this many rows are put in a page's table (the rest are in
/// `summary.csv`, which the page links).
pub const MAX_TABLE_ROWS: usize = 2000;

/// HTML-escapes text (element content and quoted attribute values).
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

/// A path as a URL path: every byte but unreserved ones and `/` encoded.
pub fn url_path(path: &Path) -> String {
    let text = path.to_string_lossy();
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The link to `target` from a page in `page_dir`: relative when `target`
/// is inside it, else an absolute `file://` URL.
pub fn href(page_dir: &Path, target: &Path) -> String {
    match target.strip_prefix(page_dir) {
        Ok(rel) => url_path(rel),
        Err(_) => format!("file://{}", url_path(target)),
    }
}

/// Start of a page: title, inline style, `<body>`; `refresh` seconds
/// makes it reload itself (for a page rewritten during a run).
pub fn page_start(title: &str, refresh: Option<u32>) -> String {
    let refresh = refresh.map_or(String::new(), |s| {
        format!("<meta http-equiv=\"refresh\" content=\"{s}\">\n")
    });
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n{CSP}\n{refresh}\
         <title>{}</title>\n<style>{STYLE}</style>\n</head><body>\n",
        escape(title)
    )
}

/// End of a page, with the table script when the page has a table.
pub fn page_end(with_table: bool) -> String {
    if with_table {
        format!("<script>{SCRIPT}</script>\n</body></html>\n")
    } else {
        "</body></html>\n".to_string()
    }
}

/// The page may load nothing at all: only its own inline style, script
/// and SVG (a browser enforces this even if a value slipped through).
const CSP: &str = "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">";

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;color:#222}\
h1{margin-top:0}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}\
pre{background:#f4f4f4;padding:.8em;overflow-x:auto;white-space:pre-wrap}\
.plots{display:flex;flex-wrap:wrap;gap:8px}.plots svg{border:1px solid #ddd}\
table.kv td{padding:2px 12px 2px 0;vertical-align:top}table.kv td:first-child{font-weight:bold}\
table.data{border-collapse:collapse;font-size:13px}\
table.data th,table.data td{border:1px solid #ccc;padding:2px 6px;text-align:left}\
table.data th{background:#eee;cursor:pointer;position:sticky;top:0}\
.done{color:#00795a}.failed,.error{color:#c62a1a}.timeout{color:#a86f00}.interrupted{color:#666}\
.legend span{display:inline-block;padding:0 .6em;margin-right:.4em;color:#fff;border-radius:3px}\
.note{color:#666;font-style:italic}";

/// Sorts `table.data` by a clicked header (numbers as numbers) and
/// filters its rows by the text typed in `#filter`.
const SCRIPT: &str = r#"(function(){
var t=document.querySelector('table.data');if(!t)return;
var b=t.tBodies[0];
t.querySelectorAll('th').forEach(function(th,i){th.addEventListener('click',function(){
var asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
var rows=Array.prototype.slice.call(b.rows);
rows.sort(function(x,y){var a=x.cells[i].textContent,c=y.cells[i].textContent;
var na=parseFloat(a),nc=parseFloat(c);
var r=(!isNaN(na)&&!isNaN(nc))?na-nc:a.localeCompare(c);return asc?r:-r;});
rows.forEach(function(r){b.appendChild(r);});});});
var f=document.getElementById('filter');if(f)f.addEventListener('input',function(){
var q=f.value.toLowerCase();Array.prototype.forEach.call(b.rows,function(r){
r.style.display=r.textContent.toLowerCase().indexOf(q)<0?'none':'';});});
})();"#;

/// A key–value table (values already HTML).
pub fn key_values(pairs: &[(String, String)]) -> String {
    let mut out = String::from("<table class=\"kv\">\n");
    for (k, v) in pairs {
        out.push_str(&format!("<tr><td>{}</td><td>{v}</td></tr>\n", escape(k)));
    }
    out.push_str("</table>\n");
    out
}

/// The sortable, filterable data table. `cells(row)` gives each row's
/// cells as HTML (already escaped); at most [`MAX_TABLE_ROWS`] are shown.
pub fn data_table(
    columns: &[String],
    rows: usize,
    cells: impl Fn(usize) -> Vec<String>,
    all_rows_link: &str,
) -> String {
    let mut out = String::from(
        "<p><input id=\"filter\" placeholder=\"Filter rows\" size=\"40\"> \
         <span class=\"note\">click a column header to sort</span></p>\n",
    );
    if rows > MAX_TABLE_ROWS {
        out.push_str(&format!(
            "<p class=\"note\">The table shows the first {MAX_TABLE_ROWS} of {rows} rows; \
             all are in <a href=\"{}\">summary.csv</a>.</p>\n",
            escape(all_rows_link)
        ));
    }
    out.push_str("<table class=\"data\"><thead><tr>");
    for c in columns {
        out.push_str(&format!("<th>{}</th>", escape(c)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for r in 0..rows.min(MAX_TABLE_ROWS) {
        out.push_str("<tr>");
        for c in cells(r) {
            out.push_str(&format!("<td>{c}</td>"));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_links() {
        assert_eq!(
            escape("<script>alert('1')</script>&\""),
            "&lt;script&gt;alert(&#39;1&#39;)&lt;/script&gt;&amp;&quot;"
        );
        assert_eq!(
            href(Path::new("/r"), Path::new("/r/T=1,V=2 b")),
            "T%3D1%2CV%3D2%20b"
        );
        assert_eq!(
            href(Path::new("/o"), Path::new("/r/x=1")),
            "file:///r/x%3D1"
        );
    }

    #[test]
    fn table_is_escaped_capped_and_scripted() {
        let t = data_table(
            &["a<b".to_string()],
            MAX_TABLE_ROWS + 5,
            |r| vec![escape(&format!("<i>{r}"))],
            "summary.csv",
        );
        assert!(t.contains("<th>a&lt;b</th>"));
        assert_eq!(t.matches("<tr>").count(), MAX_TABLE_ROWS + 1);
        assert!(t.contains(&format!("first {MAX_TABLE_ROWS} of {}", MAX_TABLE_ROWS + 5)));
        let page = page_start("x<y", Some(5)) + &t + &page_end(true);
        assert!(page.contains("<title>x&lt;y</title>"));
        assert!(page.contains("http-equiv=\"refresh\" content=\"5\""));
        assert!(
            page.contains("content=\"default-src 'none';"),
            "CSP forbids loads"
        );
        assert!(!page.contains("src=") && !page.contains("url(") && !page.contains("http:"));
    }
}
