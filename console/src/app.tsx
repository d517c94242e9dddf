import { PreviewClient, type PreviewList } from '@preview-service/client';
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { PreviewPanel } from './preview-panel.js';
import {
  errorText,
  localStreamUrl,
  saveAccess,
  saveToken,
  savedAccess,
  savedToken,
  type LiveAccess,
} from './session.js';

const tokenCommand = 'npm run -s token -- --user alice --tier free';

function TokenForm({ token, onToken }: { token: string; onToken: (token: string) => void }) {
  const [draft, setDraft] = useState(token);
  return (
    <form
      class="token-form"
      onSubmit={(e) => {
        e.preventDefault();
        onToken(draft.trim());
      }}
    >
      <label for="token">Bearer token</label>
      <input
        id="token"
        type="password"
        autocomplete="off"
        placeholder="Paste a JWT"
        value={draft}
        onInput={(e) => setDraft((e.currentTarget as HTMLInputElement).value)}
        data-testid="token-input"
      />
      <button type="submit" data-testid="token-save">
        Use token
      </button>
      {token && (
        <button type="button" onClick={() => onToken('')}>
          Forget
        </button>
      )}
      <span class="hint">
        Mint one with <code>{tokenCommand}</code>
      </span>
    </form>
  );
}

export function App({ examples }: { examples: readonly string[] }) {
  const [token, setToken] = useState(savedToken);
  const client = useMemo(() => new PreviewClient({ baseUrl: location.origin, token }), [token]);
  const [list, setList] = useState<PreviewList>();
  const [error, setError] = useState<string>();
  const [selected, setSelected] = useState<string>();
  const [access, setAccess] = useState<LiveAccess>();
  const [example, setExample] = useState(examples.includes('hello-api') ? 'hello-api' : (examples[0] ?? ''));
  const [busy, setBusy] = useState(false);

  const refresh = useCallback(async () => {
    if (!token) return;
    try {
      setList(await client.listPreviews());
      setError(undefined);
    } catch (failure) {
      setError(errorText(failure));
    }
  }, [client, token]);

  useEffect(() => {
    setList(undefined);
    void refresh();
    const timer = setInterval(() => void refresh(), 5000);
    return () => clearInterval(timer);
  }, [refresh]);

  const select = (generationId: string) => {
    setSelected(generationId);
    setAccess(savedAccess(generationId));
  };

  const act = async (action: () => Promise<void>) => {
    setBusy(true);
    try {
      await action();
      setError(undefined);
    } catch (failure) {
      setError(errorText(failure));
    } finally {
      setBusy(false);
      void refresh();
    }
  };

  const launch = () =>
    act(async () => {
      const { preview } = await client.launch(example);
      // A preview that was already live comes without its token: the page keeps what it had.
      if (preview.previewToken) {
        saveAccess(example, { wsUrl: preview.wsUrl, previewToken: preview.previewToken });
      }
      select(example);
    });

  const connect = (generationId: string) =>
    act(async () => {
      const { previewToken } = await client.rotateToken(generationId);
      const granted = {
        wsUrl: savedAccess(generationId)?.wsUrl ?? localStreamUrl(generationId),
        previewToken,
      };
      saveAccess(generationId, granted);
      setAccess(granted);
    });

  const remove = (generationId: string) =>
    act(async () => {
      await client.delete(generationId);
      saveAccess(generationId, undefined);
      setAccess(undefined);
    });

  const changeToken = (next: string) => {
    saveToken(next);
    setToken(next);
    setSelected(undefined);
    setAccess(undefined);
  };

  return (
    <main>
      <header class="top">
        <h1>Preview console</h1>
        <TokenForm token={token} onToken={changeToken} />
      </header>
      {error && (
        <p class="error" data-testid="error">
          {error}
        </p>
      )}
      {token && (
        <div class="layout">
          <aside>
            <section class="launch">
              <h2>Launch</h2>
              <select
                value={example}
                onChange={(e) => setExample((e.currentTarget as HTMLSelectElement).value)}
                data-testid="example"
              >
                {examples.map((name) => (
                  <option key={name} value={name}>
                    {name}
                  </option>
                ))}
              </select>
              <button
                type="button"
                disabled={busy || !example}
                onClick={() => void launch()}
                data-testid="launch"
              >
                Launch
              </button>
            </section>
            <section>
              <h2>Your previews</h2>
              {list && (
                <p class="quota" data-testid="quota">
                  {list.quota.used} of {list.quota.limit} in use ({list.quota.tier}), {list.quota.remaining}{' '}
                  left
                </p>
              )}
              <ul class="previews" data-testid="previews">
                {list?.previews.map((p) => (
                  <li key={p.previewInstanceId} class={p.generationId === selected ? 'selected' : ''}>
                    <button type="button" onClick={() => select(p.generationId)}>
                      <span>{p.generationId}</span>
                      <span class={`badge status-${p.status}`}>{p.status}</span>
                    </button>
                  </li>
                ))}
              </ul>
            </section>
          </aside>
          {selected ? (
            <PreviewPanel
              key={selected}
              client={client}
              generationId={selected}
              access={access}
              onConnect={() => void connect(selected)}
              onDelete={() => void remove(selected)}
              onStatusChange={() => void refresh()}
            />
          ) : (
            <p class="empty">Launch an example or pick one of your previews.</p>
          )}
        </div>
      )}
    </main>
  );
}
