//! `fz.discover_funz_servers`: the survey of a UDP port
//! ([`fz_core::calculators::funz::survey`]) with the Python predicate and
//! Ctrl+C checked between datagrams, the GIL released while listening.

use fz_core::calculators::funz::survey::survey;
use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use std::sync::Mutex;
use std::time::Duration;

/// Listens on `udp_port` for `listen_duration` seconds; returns JSON text,
/// a list of upstream's server dicts. `stop_when(server_dict)` returning
/// true ends the listening early; its exception (or Ctrl+C) is raised.
#[pyfunction]
#[pyo3(signature = (udp_port, listen_duration, stop_when=None))]
pub fn funz_servers(
    py: Python<'_>,
    udp_port: u16,
    listen_duration: f64,
    stop_when: Option<Py<PyAny>>,
) -> PyResult<String> {
    let duration = Duration::from_secs_f64(listen_duration.clamp(0.0, 86_400.0));
    // Both callbacks may raise: the first Python error ends the survey.
    let raised: Mutex<Option<PyErr>> = Mutex::new(None);
    let raise = |e: PyErr| {
        raised
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert(e);
    };
    let heard = py.detach(|| {
        survey(
            udp_port,
            duration,
            |h| {
                let Some(predicate) = &stop_when else {
                    return false;
                };
                Python::attach(|py| {
                    let dict = json_to_py(py, &h.to_json())?;
                    predicate.call1(py, (dict,))?.is_truthy(py)
                })
                .unwrap_or_else(|e| {
                    raise(e);
                    true
                })
            },
            || {
                Python::attach(|py| py.check_signals()).map_or_else(
                    |e| {
                        raise(e);
                        false
                    },
                    |()| true,
                )
            },
        )
    });
    if let Some(e) = raised.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    let heard = heard.map_err(|e| PyOSError::new_err(e.to_string()))?;
    let list: Vec<serde_json::Value> = heard.iter().map(|h| h.to_json()).collect();
    Ok(serde_json::Value::Array(list).to_string())
}

/// A JSON value as the Python object `json.loads` would give.
fn json_to_py<'py>(py: Python<'py>, value: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?
        .call_method1("loads", (value.to_string(),))
}
