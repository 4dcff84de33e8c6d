"""The processing path: sample and decode frames of a stream, detect motion, report it."""
