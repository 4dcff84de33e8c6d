"""go2rtc, optional: a managed go2rtc subprocess that serves WebRTC live view (docs/go2rtc.md)."""
