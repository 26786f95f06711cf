import { createResource, Show } from 'solid-js';
import { disablePush, enablePush, pushEnabled } from '../push.js';
import { ActionButton } from './Form.jsx';

/** Turns this device's notifications on or off. */
export function PushToggle() {
  const [enabled, { refetch }] = createResource(() => pushEnabled().catch(() => false));
  return (
    <Show when={enabled() !== undefined}>
      <ActionButton class="link" action={async () => {
        await (enabled() ? disablePush() : enablePush());
        await refetch();
      }}>
        {enabled() ? 'Notifications on' : 'Notify me'}
      </ActionButton>
    </Show>
  );
}

