//! Rendering results for users: maps (`fzi`) and tables (`fzo`, `fzr`) as
//! json, csv, markdown, html or plain-text tables.
