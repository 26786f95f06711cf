import { createSignal, For, Match, Show, Switch } from 'solid-js';
import { authEndpoints, MIN_PASSWORD_LENGTH, type AuthStage } from '@codepiper/auth-contract';
import { call } from '../api.js';
import { CopyButton } from '../components/CopyButton.jsx';
import { ActionButton, ActionForm } from '../components/Form.jsx';

type Step = 'login' | 'password' | 'totp' | 'codes';

/**
 * Sign-in and first run: the bootstrap password printed by the daemon, then a
 * permanent password, then TOTP enrollment (QR code and secret, confirmed by a
 * code), then the recovery codes, shown once. Later: password and code.
 */
export function SignIn(props: { firstRun: boolean; stage: AuthStage; onDone: () => void | Promise<void> }) {
  const setupStep = (): Step => (props.firstRun ? 'password' : 'totp');
  const [step, setStep] = createSignal<Step>(props.stage === 'setup' ? setupStep() : 'login');
  const [enrollment, setEnrollment] = createSignal<{ secret: string; uri: string; qrSvg: string }>();
  const [codes, setCodes] = createSignal<string[]>([]);

  const startEnrollment = async () => {
    setEnrollment(await call(authEndpoints.enrollTotp));
    setStep('totp');
  };
  const login = async (values: Record<string, string>) => {
    const result = await call(authEndpoints.login, { body: { password: values.password ?? '', ...(values.code ? { code: values.code } : {}) } });
    if (result.stage === 'full') return props.onDone();
    if (props.firstRun) setStep('password');
    else await startEnrollment();
  };
  const choosePassword = async (values: Record<string, string>) => {
    if (values.password !== values.repeat) throw new Error('the two passwords differ');
    await call(authEndpoints.setPassword, { body: { password: values.password ?? '' } });
    await startEnrollment();
  };
  const confirm = async (values: Record<string, string>) => {
    const result = await call(authEndpoints.confirmTotp, { body: { code: values.code ?? '' } });
    setCodes(result.recoveryCodes);
    setStep('codes');
  };

  return (
    <main class="signin" id="main">
      <h1>CodePiper</h1>
      <Switch>
        <Match when={step() === 'login'}>
          <ActionForm class="stack" label="Sign in" submit="Sign in" action={login}>
            <p>{props.firstRun ? 'First run: sign in with the one-time password the daemon printed when it started.' : 'Sign in with your password and the code from your authenticator app.'}</p>
            <label>
              Password
              <input name="password" type="password" autocomplete="current-password" required autofocus />
            </label>
            <Show when={!props.firstRun}>
              <label>
                Code
                <input name="code" inputmode="numeric" autocomplete="one-time-code" placeholder="123456 or a recovery code" />
              </label>
            </Show>
          </ActionForm>
        </Match>
        <Match when={step() === 'password'}>
          <ActionForm class="stack" label="Choose your password" submit="Set password" action={choosePassword}>
            <p>Choose your password (at least {MIN_PASSWORD_LENGTH} characters).</p>
            <label>
              New password
              <input name="password" type="password" autocomplete="new-password" minlength={MIN_PASSWORD_LENGTH} required autofocus />
            </label>
            <label>
              Repeat it
              <input name="repeat" type="password" autocomplete="new-password" minlength={MIN_PASSWORD_LENGTH} required />
            </label>
          </ActionForm>
        </Match>
        <Match when={step() === 'totp'}>
          <ActionForm class="stack" label="Enroll your authenticator" submit="Confirm" action={confirm}>
            <p>Scan this code with an authenticator app, or type the secret into it, then enter the code it shows.</p>
            <Show when={enrollment()} fallback={<ActionButton action={startEnrollment}>Show the code</ActionButton>}>
              {(e) => (
                <>
                  <div class="qr" role="img" aria-label="QR code for your authenticator app" innerHTML={e().qrSvg} />
                  <p>
                    <a class="button" href={e().uri}>
                      Add to an authenticator on this device
                    </a>
                  </p>
                  <p class="secret">
                    Secret: <code data-testid="totp-secret">{e().secret}</code> <CopyButton text={e().secret} label="Copy the secret">Copy</CopyButton>
                  </p>
                </>
              )}
            </Show>
            <label>
              Code
              <input name="code" inputmode="numeric" pattern="[0-9]{6}" autocomplete="one-time-code" required />
            </label>
          </ActionForm>
        </Match>
        <Match when={step() === 'codes'}>
          <section aria-labelledby="codes-title">
            <h2 id="codes-title">Recovery codes</h2>
            <p>Each code signs you in once if you lose your authenticator. They are shown only now: keep them somewhere safe.</p>
            <ul class="codes" data-testid="recovery-codes">
              <For each={codes()}>{(code) => <li><code>{code}</code></li>}</For>
            </ul>
            <p>
              <CopyButton text={codes().join('\n')} label="Copy all recovery codes">Copy all</CopyButton>
            </p>
            <button type="button" onClick={() => void props.onDone()}>I have saved them</button>
          </section>
        </Match>
      </Switch>
    </main>
  );
}
