//! Java `DecimalFormat`-like number formats for formula results (`@{x | 0.00}`).
