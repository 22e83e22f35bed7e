"""Everything that turns a solved plan into files people read."""
