# fz algorithm plugin host for R (embedded in fz; base R only, no rpy2).
#
# Run as `Rscript -e 'eval(parse(text = Sys.getenv("FZ_PLUGIN_HOST")))'`.
# Requests: one line of R source per request, written by fz, building the
# same structure as the JSON requests of the Python host (objects as named
# lists, arrays as lists): list(op = "init", file = ..., options = ...), …
# Replies: one line on stdout, $FZ_PLUGIN_MARKER then {"ok": value} or
# {"error": "message"}, ASCII JSON written here. R output of the plugin is
# sunk to stderr; other bytes reaching stdout carry no marker and are
# skipped by fz.
local({
  marker <- Sys.getenv("FZ_PLUGIN_MARKER")
  Sys.unsetenv(c("FZ_PLUGIN_MARKER", "FZ_PLUGIN_HOST"))
  inp <- file("stdin")
  open(inp)
  out <- stdout()
  sink(stderr())
  options(warn = 1)
  methods_needed <- c("get_initial_design", "get_next_design", "get_analysis")
  state <- new.env()

  send <- function(json) {
    cat(marker, json, "\n", sep = "", file = out)
    flush(out)
  }

  # A JSON string, every non-printable or non-ASCII character escaped.
  jstr <- function(s) {
    if (is.na(s)) return("null")
    cp <- utf8ToInt(enc2utf8(as.character(s)))
    if (anyNA(cp)) cp <- utf8ToInt(iconv(s, "", "UTF-8", sub = "?"))
    if (anyNA(cp)) cp <- 63L
    chars <- vapply(cp, function(c) {
      if (c == 34L || c == 92L) return(paste0("\\", intToUtf8(c)))
      if (c >= 32L && c <= 126L) return(intToUtf8(c))
      if (c > 65535L) {
        v <- c - 65536L
        return(sprintf("\\u%04x\\u%04x", 55296L + v %/% 1024L, 56320L + v %% 1024L))
      }
      sprintf("\\u%04x", c)
    }, "")
    paste0("\"", paste(chars, collapse = ""), "\"")
  }

  scalar <- function(v) {
    if (is.na(v)) return("null")
    if (is.logical(v)) return(if (v) "true" else "false")
    if (is.integer(v)) return(sprintf("%d", v))
    if (is.double(v)) {
      if (!is.finite(v)) return("null")
      text <- sprintf("%.17g", v)
      # A double stays a float in JSON (1.0, not 1), as Python writes it.
      return(if (grepl("^-?[0-9]+$", text)) paste0(text, ".0") else text)
    }
    jstr(as.character(v))
  }

  named <- function(x) {
    nm <- names(x)
    !is.null(nm) && !anyNA(nm) && all(nzchar(nm))
  }

  pack <- function(items, x) {
    if (named(x) && length(items) > 0L) {
      keys <- vapply(names(x), jstr, "", USE.NAMES = FALSE)
      paste0("{", paste0(keys, ":", items, collapse = ","), "}")
    } else {
      paste0("[", paste(items, collapse = ","), "]")
    }
  }

  # R value -> JSON: named vectors and lists as objects, length-1 unnamed
  # vectors as scalars, other vectors and lists as arrays.
  to_json <- function(x, depth = 0L) {
    if (depth > 100L) stop("value nested too deeply")
    if (is.null(x)) return("null")
    if (is.factor(x)) x <- structure(as.character(x), names = names(x))
    if (is.atomic(x) && (is.logical(x) || is.numeric(x) || is.character(x))) {
      if (length(x) == 1L && !named(x)) return(scalar(x[[1L]]))
      return(pack(vapply(seq_along(x), function(i) scalar(x[[i]]), ""), x))
    }
    if (is.list(x)) {
      return(pack(vapply(seq_along(x), function(i) to_json(x[[i]], depth + 1L), ""), x))
    }
    jstr(paste0("<", class(x)[1L], ">"))
  }

  # A design: list (or data frame rows) of points, each a name -> number map.
  design_json <- function(d) {
    if (is.data.frame(d)) d <- lapply(seq_len(nrow(d)), function(i) as.list(d[i, , drop = FALSE]))
    if (length(d) == 0L) return("[]")
    if (!is.list(d)) stop("a design must be a list of named lists, got ", class(d)[1L])
    points <- vapply(d, function(p) {
      p <- as.list(p)
      if (length(p) == 0L) return("{}")
      to_json(structure(lapply(p, function(v) as.numeric(unlist(v))[1L]), names = names(p)))
    }, "")
    paste0("[", paste(points, collapse = ","), "]")
  }

  message_of <- function(e) {
    msg <- paste(trimws(strsplit(conditionMessage(e), "\n")[[1L]]), collapse = " ")
    call <- conditionCall(e)
    if (is.null(call) || identical(call[[1L]], quote(do.call))) {
      return(paste0("Error: ", msg))
    }
    paste0("Error in ", deparse(call, nlines = 1L)[1L], ": ", msg)
  }

  fun <- function(name) get0(name, envir = globalenv(), mode = "function", inherits = FALSE)

  title <- function(w) paste0(toupper(substring(w, 1L, 1L)), tolower(substring(w, 2L)))

  # The constructor: a function named after a variant of the file stem,
  # else the last (in name order) capitalised function without a dot.
  find_ctor <- function(stem) {
    words <- strsplit(stem, "_", fixed = TRUE)[[1L]]
    variants <- unique(c(stem, title(gsub("_", "", stem, fixed = TRUE)),
                         paste(title(words), collapse = ""), paste(title(words), collapse = "_")))
    for (v in variants) if (!is.null(fun(v))) return(v)
    for (n in sort(ls(globalenv()), decreasing = TRUE)) {
      if (!is.null(fun(n)) && !grepl(".", n, fixed = TRUE) && n != tolower(n) && grepl("^[A-Z]", n)) {
        return(n)
      }
    }
    stop("No algorithm constructor found: define a function named ", variants[[length(variants) - 1L]],
         " (or another capitalised name) returning an object with S3 methods ",
         paste(methods_needed, collapse = ", "))
  }

  # The function to call for method `name` on obj: its S3 method for one of
  # obj's classes or the default, else a plain function of that name that is
  # not a generic.
  method_of <- function(name, obj) {
    for (cls in c(class(obj), "default")) {
      m <- fun(paste0(name, ".", cls))
      if (!is.null(m)) return(m)
    }
    f <- fun(name)
    if (!is.null(f) && !any(grepl("UseMethod", deparse(body(f)), fixed = TRUE))) return(f)
    NULL
  }

  load_file <- function(file) {
    stem <- sub("\\.[^.]*$", "", basename(file))
    parsed <- tryCatch(parse(file = file, keep.source = FALSE), error = function(e) e)
    if (inherits(parsed, "error")) stop("could not be parsed: ", message_of(parsed), call. = FALSE)
    for (ex in parsed) eval(ex, globalenv())
    find_ctor(stem)
  }

  init <- function(file, options) {
    ctor <- load_file(file)
    obj <- tryCatch(do.call(fun(ctor), as.list(options)), error = function(e) {
      stop(ctor, "(options) failed: ", message_of(e), call. = FALSE)
    })
    lacking <- methods_needed[vapply(methods_needed, function(m) is.null(method_of(m, obj)), TRUE)]
    if (length(lacking) > 0L) {
      stop("No valid algorithm: class ", class(obj)[1L], " lacks ", paste(lacking, collapse = ", "),
           ". Algorithm must have methods: ", paste(methods_needed, collapse = ", "), call. = FALSE)
    }
    state$obj <- obj
    paste0("{\"class\":", jstr(class(obj)[1L]), ",\"has_tmp\":",
           if (is.null(method_of("get_analysis_tmp", obj))) "false" else "true", "}")
  }

  numbers <- function(v) if (is.null(v)) NULL else as.numeric(unlist(v))

  call_method <- function(name, ...) {
    m <- method_of(name, state$obj)
    if (is.null(m)) stop("no method ", name, call. = FALSE)
    m(state$obj, ...)
  }

  handle <- function(line) {
    req <- eval(parse(text = line, keep.source = FALSE)[[1L]], baseenv())
    op <- req$op
    if (op == "require") {
      pkgs <- as.character(unlist(req$packages))
      gone <- pkgs[!vapply(pkgs, function(p) nzchar(system.file(package = p)), TRUE)]
      return(pack(vapply(gone, jstr, "", USE.NAMES = FALSE), NULL))
    }
    if (op == "check") return(paste0("{\"constructor\":", jstr(load_file(req$file)), "}"))
    if (op == "init") return(init(req$file, req$options))
    if (is.null(state$obj)) stop("no algorithm loaded", call. = FALSE)
    if (op == "get_initial_design") {
      ranges <- lapply(req$input_vars, numbers)
      return(design_json(call_method(op, ranges, as.character(unlist(req$output_vars)))))
    }
    X <- lapply(req$X, function(p) lapply(p, as.numeric))
    Y <- lapply(req$Y, numbers)
    if (op == "get_next_design") return(design_json(call_method(op, X, Y)))
    if (op %in% c("get_analysis", "get_analysis_tmp")) return(to_json(call_method(op, X, Y)))
    stop("unknown request ", op, call. = FALSE)
  }

  repeat {
    line <- readLines(inp, n = 1L, warn = FALSE)
    if (length(line) == 0L) break
    reply <- tryCatch(paste0("{\"ok\":", handle(line), "}"), error = function(e) {
      paste0("{\"error\":", jstr(message_of(e)), "}")
    })
    send(reply)
  }
})
