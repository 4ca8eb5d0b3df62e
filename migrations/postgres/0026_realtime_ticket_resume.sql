-- Team chat (issue 16): a ticket may carry where its socket resumes, the last event number
-- the client has per room (JSON `{room_id: seq}`), so the socket replays what was missed
-- before it sends anything live; a `resume` frame sent after connecting raced the live
-- frames (ADR 24, amended).
ALTER TABLE realtime_tickets ADD COLUMN resume TEXT;
