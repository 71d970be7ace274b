//! Python literal parsing (`ast.literal_eval` subset) for defaults and casts.
