/** The dashboard's look: dark (as it always was), light, or whatever the device prefers. Kept on the device. */
export type ThemeChoice = 'dark' | 'light' | 'system';

const KEY = 'codepiper.theme';
const prefersLight = window.matchMedia('(prefers-color-scheme: light)');

export const themeChoice = (): ThemeChoice => {
  const stored = localStorage.getItem(KEY);
  return stored === 'light' || stored === 'system' ? stored : 'dark';
};

/** Sets the page's theme from the choice kept on the device; with `system`, again whenever the device's preference changes. */
export function applyTheme(): void {
  const choice = themeChoice();
  const light = choice === 'light' || (choice === 'system' && prefersLight.matches);
  document.documentElement.dataset.theme = light ? 'light' : 'dark';
}

export function chooseTheme(choice: ThemeChoice): void {
  localStorage.setItem(KEY, choice);
  applyTheme();
}

prefersLight.addEventListener('change', applyTheme);
