# fz formula worker for R (embedded in the fz binary; base R only).
#
# The parent starts `Rscript -e 'eval(parse(text = Sys.getenv("FZ_WORKER_SCRIPT")))'`.
# Protocol: one request per line on stdin, written by the parent as a single
# line of R source (a call to list() with escaped string literals), and one
# reply per line on stdout, written here as ASCII-only JSON prefixed by the
# marker found in $FZ_WORKER_MARKER. R output of user code is sunk to stderr;
# anything else reaching stdout is skipped by the parent (no marker).
#
# Request: list(cases = list(<case>, ...)), one case being
#          list(vars = list(names = <chr>, values = <list>),
#               files = list(list(file = <chr>, ctx_lines = <int>,
#                                 ctx_code = <chr>, f_code = <chr>,
#                                 fallback = <lgl>), ...))
# Reply:   {"cases": [{"files": [{"warnings": [str], "results":
#           [{"value": v} | {"err": str}]}]} | {"fatal": str}, ...]}
#          one entry per case ({"fatal": str} when that case could not be
#          handled), or {"fatal": str} when the request itself could not be.
#          Doubles travel as {"$f": "<%.17g>"}, named lists/vectors as
#          {"$m": {...}}, NA as null.
local({
  marker <- Sys.getenv("FZ_WORKER_MARKER")
  Sys.unsetenv(c("FZ_WORKER_MARKER", "FZ_WORKER_SCRIPT"))
  inp <- file("stdin")
  open(inp)
  out <- stdout()
  sink(stderr())
  options(warn = 1)

  send <- function(json) {
    cat(marker, json, "\n", sep = "", file = out)
    flush(out)
  }

  codepoints <- function(s) {
    cp <- utf8ToInt(enc2utf8(s))
    if (anyNA(cp)) {
      cp <- utf8ToInt(iconv(s, "UTF-8", "UTF-8", sub = "?"))
    }
    if (anyNA(cp)) {
      cp <- 63L
    }
    cp
  }

  jstr <- function(s) {
    if (is.na(s)) {
      return("null")
    }
    cp <- codepoints(s)
    esc <- cp < 32L | cp == 34L | cp == 92L | cp > 126L
    if (!any(esc)) {
      return(paste0("\"", intToUtf8(cp), "\""))
    }
    parts <- character(length(cp))
    parts[!esc] <- intToUtf8(cp[!esc], multiple = TRUE)
    e <- cp[esc]
    enc <- sprintf("\\u%04x", e)
    big <- e > 65535L
    if (any(big)) {
      v <- e[big] - 65536L
      enc[big] <- sprintf("\\u%04x\\u%04x", 55296L + v %/% 1024L, 56320L + v %% 1024L)
    }
    parts[esc] <- enc
    paste0("\"", paste(parts, collapse = ""), "\"")
  }

  scalar <- function(v) {
    if (is.double(v)) {
      if (is.nan(v)) return("{\"$f\":\"nan\"}")
      if (is.na(v)) return("null")
      if (v == Inf) return("{\"$f\":\"inf\"}")
      if (v == -Inf) return("{\"$f\":\"-inf\"}")
      return(paste0("{\"$f\":\"", sprintf("%.17g", v), "\"}"))
    }
    if (is.na(v)) return("null")
    if (is.logical(v)) return(if (v) "true" else "false")
    if (is.integer(v)) return(sprintf("%d", v))
    jstr(as.character(v))
  }

  wrap <- function(items, nm) {
    if (!is.null(nm) && length(nm) == length(items) && !anyNA(nm) && all(nzchar(nm))) {
      keys <- vapply(nm, jstr, "", USE.NAMES = FALSE)
      paste0("{\"$m\":{", paste0(keys, ":", items, collapse = ","), "}}")
    } else {
      paste0("[", paste(items, collapse = ","), "]")
    }
  }

  # R value -> JSON text; length-1 vectors and lists are unwrapped.
  conv <- function(x, depth = 0L) {
    if (depth > 40L) stop("too deeply nested")
    if (is.null(x)) return("null")
    if (is.factor(x)) x <- structure(as.character(x), names = names(x))
    if (is.atomic(x)) {
      if (!(is.logical(x) || is.integer(x) || is.double(x) || is.character(x))) {
        stop("unsupported type")
      }
      n <- length(x)
      if (n == 1L) return(scalar(x[[1L]]))
      items <- vapply(seq_len(n), function(i) scalar(x[[i]]), "")
      return(wrap(items, names(x)))
    }
    if (is.list(x)) {
      n <- length(x)
      if (n == 1L) return(conv(x[[1L]], depth + 1L))
      items <- vapply(seq_len(n), function(i) conv(x[[i]], depth + 1L), "")
      return(wrap(items, names(x)))
    }
    stop("unsupported type")
  }

  value_json <- function(x) {
    j <- tryCatch(conv(x), error = function(e) NULL)
    if (!is.null(j)) return(j)
    text <- tryCatch(
      paste(utils::capture.output(print(x)), collapse = "\n"),
      error = function(e) "<unprintable R object>"
    )
    jstr(text)
  }

  # Condition -> list(msg = "Error ...", line = <line in the parsed text or NA>).
  err_info <- function(e) {
    msg <- sub("[[:space:]]+$", "", conditionMessage(e))
    m <- regmatches(msg, regexec("^<(fz|text)>:([0-9]+):([0-9]+): ([^\n]*)", msg))[[1L]]
    if (length(m) == 5L) {
      return(list(msg = paste0("Error: ", m[5L]), line = as.integer(m[3L])))
    }
    call <- conditionCall(e)
    if (is.call(call) && identical(call[[1L]], quote(eval))) call <- NULL
    text <- if (is.null(call)) {
      paste0("Error: ", msg)
    } else {
      paste0("Error in ", deparse(call)[1L], " : ", msg)
    }
    list(msg = text, line = NA_integer_)
  }

  # Parsed context programs (and single context lines) by source text, so a
  # context shared by many cases is parsed once; emptied when it grows past
  # cache_max entries. Code that does not parse is never cached. Keys are
  # symbol names: a UTF-8 key in a non-UTF-8 locale would be translated
  # (possibly colliding with another), so such code is not cached.
  cache_max <- 4096L
  parse_cache <- new.env(hash = TRUE, parent = emptyenv())
  cache_size <- 0L
  utf8_locale <- isTRUE(l10n_info()[["UTF-8"]])

  parse_code <- function(src) {
    cacheable <- nzchar(src) && (utf8_locale || Encoding(src) != "UTF-8")
    if (cacheable) {
      hit <- parse_cache[[src]]
      if (!is.null(hit)) return(hit)
    }
    exprs <- parse(text = src, srcfile = srcfilecopy("<fz>", src), keep.source = FALSE)
    if (cacheable) {
      if (cache_size >= cache_max) {
        parse_cache <<- new.env(hash = TRUE, parent = emptyenv())
        cache_size <<- 0L
      }
      assign(src, exprs, envir = parse_cache)
      cache_size <<- cache_size + 1L
    }
    exprs
  }

  # Runs src in env, top-level expression by expression; NULL or err_info().
  run_code <- function(src, env) {
    exprs <- tryCatch(parse_code(src), error = function(e) e)
    if (inherits(exprs, "error")) return(err_info(exprs))
    refs <- attr(exprs, "srcref")
    for (i in seq_along(exprs)) {
      failed <- tryCatch({
        eval(exprs[[i]], env)
        NULL
      }, error = function(e) e)
      if (!is.null(failed)) {
        info <- err_info(failed)
        if (is.na(info$line) && length(refs) >= i) info$line <- refs[[i]][1L]
        return(info)
      }
    }
    NULL
  }

  new_env <- function(vars) {
    env <- new.env(parent = globalenv())
    # A non-finite case value is written into the formula text as `inf`,
    # `-inf` or `nan` (Python's str()): those names must mean it.
    assign("inf", Inf, envir = env)
    assign("nan", NaN, envir = env)
    nm <- vars$names
    for (i in seq_along(nm)) assign(nm[[i]], vars$values[[i]], envir = env)
    env
  }

  formula_json <- function(expr, env) {
    r <- tryCatch({
      exprs <- parse(text = expr, keep.source = FALSE)
      val <- NULL
      for (ex in exprs) val <- eval(ex, env)
      list(val)
    }, error = function(e) e)
    if (inherits(r, "condition")) {
      return(paste0("{\"err\":", jstr(err_info(r)$msg), "}"))
    }
    paste0("{\"value\":", value_json(r[[1L]]), "}")
  }

  clear_globalenv <- function() {
    left <- ls(globalenv(), all.names = TRUE)
    if (length(left) > 0L) rm(list = left, envir = globalenv())
  }

  run_file <- function(vars, f) {
    clear_globalenv()
    env <- new_env(vars)
    fname <- f$file
    lines <- f$ctx_lines
    code <- f$ctx_code
    where <- function(l) {
      if (!is.na(l) && l >= 1L && l <= length(lines)) {
        sprintf(" (%s, line %d)", fname, lines[[l]])
      } else {
        sprintf(" (%s)", fname)
      }
    }
    warns <- character(0)
    if (length(code) > 0L) {
      failed <- run_code(paste(code, collapse = "\n"), env)
      if (!is.null(failed)) {
        if (isTRUE(f$fallback)) {
          warns <- c(warns, paste0("Error executing full context: ", failed$msg, where(failed$line)))
          for (k in seq_along(code)) {
            if (!nzchar(trimws(code[[k]]))) next
            failed <- run_code(code[[k]], env)
            if (!is.null(failed)) {
              warns <- c(warns, sprintf(
                "Error executing context line '%s': %s (%s, line %d)",
                code[[k]], failed$msg, fname, lines[[k]]
              ))
            }
          }
        } else {
          warns <- c(warns, paste0("Error executing static objects: ", failed$msg, where(failed$line)))
          clear_globalenv()
          env <- new_env(vars)
        }
      }
    }
    results <- vapply(f$f_code, formula_json, "", env = env, USE.NAMES = FALSE)
    paste0(
      "{\"warnings\":[", paste(vapply(warns, jstr, "", USE.NAMES = FALSE), collapse = ","),
      "],\"results\":[", paste(results, collapse = ","), "]}"
    )
  }

  run_case <- function(case) {
    files <- vapply(case$files, function(f) run_file(case$vars, f), "", USE.NAMES = FALSE)
    paste0("{\"files\":[", paste(files, collapse = ","), "]}")
  }

  handle <- function(line) {
    req <- eval(parse(text = line, keep.source = FALSE)[[1L]], baseenv())
    cases <- vapply(req$cases, function(case) {
      tryCatch(run_case(case), error = function(e) {
        paste0("{\"fatal\":", jstr(err_info(e)$msg), "}")
      })
    }, "", USE.NAMES = FALSE)
    paste0("{\"cases\":[", paste(cases, collapse = ","), "]}")
  }

  send(paste0("{\"ready\":", jstr(paste("R", getRversion())), "}"))
  repeat {
    line <- readLines(inp, n = 1L, warn = FALSE)
    if (length(line) == 0L) break
    reply <- tryCatch(handle(line), error = function(e) {
      paste0("{\"fatal\":", jstr(err_info(e)$msg), "}")
    })
    send(reply)
  }
})
