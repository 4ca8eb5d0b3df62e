-- A chat row names its room and the room's account together: one foreign key, the room's
-- (id, account_id), instead of one to the room and one to the account. Besides saying what
-- the two did not (the account is the room's), it spares the account's row: checking a
-- foreign key locks the row it points to (KEY SHARE), and every send of an account locking
-- the one account row at once (its message, its event, the conversations it refers to) had
-- PostgreSQL make a multixact for nearly every send. The room's row is the one a send
-- already holds. Deleting an account still takes its rooms, and with them all of these.
ALTER TABLE chat_rooms ADD CONSTRAINT chat_rooms_id_account UNIQUE (id, account_id);

ALTER TABLE chat_messages
    DROP CONSTRAINT chat_messages_account_id_fkey,
    DROP CONSTRAINT chat_messages_room_id_fkey,
    ADD CONSTRAINT chat_messages_room FOREIGN KEY (room_id, account_id)
        REFERENCES chat_rooms (id, account_id) ON DELETE CASCADE;

ALTER TABLE chat_events
    DROP CONSTRAINT chat_events_account_id_fkey,
    DROP CONSTRAINT chat_events_room_id_fkey,
    ADD CONSTRAINT chat_events_room FOREIGN KEY (room_id, account_id)
        REFERENCES chat_rooms (id, account_id) ON DELETE CASCADE;

ALTER TABLE chat_members
    DROP CONSTRAINT chat_members_account_id_fkey,
    DROP CONSTRAINT chat_members_room_id_fkey,
    ADD CONSTRAINT chat_members_room FOREIGN KEY (room_id, account_id)
        REFERENCES chat_rooms (id, account_id) ON DELETE CASCADE;

ALTER TABLE chat_mentions
    DROP CONSTRAINT chat_mentions_account_id_fkey,
    DROP CONSTRAINT chat_mentions_room_id_fkey,
    ADD CONSTRAINT chat_mentions_room FOREIGN KEY (room_id, account_id)
        REFERENCES chat_rooms (id, account_id) ON DELETE CASCADE;

ALTER TABLE chat_attachments
    DROP CONSTRAINT chat_attachments_account_id_fkey,
    DROP CONSTRAINT chat_attachments_room_id_fkey,
    ADD CONSTRAINT chat_attachments_room FOREIGN KEY (room_id, account_id)
        REFERENCES chat_rooms (id, account_id) ON DELETE CASCADE;

ALTER TABLE chat_conversation_refs
    DROP CONSTRAINT chat_conversation_refs_account_id_fkey,
    DROP CONSTRAINT chat_conversation_refs_room_id_fkey,
    ADD CONSTRAINT chat_conversation_refs_room FOREIGN KEY (room_id, account_id)
        REFERENCES chat_rooms (id, account_id) ON DELETE CASCADE;
