import { createResource } from 'solid-js';
import { notificationEndpoints } from '@codepiper/notifications-contract';
import { call } from '../api.js';
import { ActionButton } from './Form.jsx';

/** Mutes or unmutes one session's notifications on every device. */
export function MuteButton(props: { sessionId: string }) {
  const [muted, { mutate }] = createResource(() => props.sessionId, async (id) => (await call(notificationEndpoints.mutes)).sessions.includes(id));
  return (
    <ActionButton
      class="secondary"
      label={muted() ? 'Unmute notifications for this session' : 'Mute notifications for this session'}
      action={async () => mutate((await call(notificationEndpoints.mute, { params: { session: props.sessionId }, body: { muted: !muted() } })).muted)}
    >
      {muted() ? 'Unmute' : 'Mute'}
    </ActionButton>
  );
}
