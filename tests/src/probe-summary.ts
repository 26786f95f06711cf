/**
 * What an adversarial suite tried: each check with how many requests it sent,
 * in how many variants, and how many of them were accepted (must be none).
 */
export class ProbeSummary {
  private readonly rows: { check: string; requests: number; variants: number; accepted: number }[] = [];

  constructor(private readonly title: string) {}

  add(check: string, requests: number, { variants = 1, accepted = 0 }: { variants?: number; accepted?: number } = {}): void {
    this.rows.push({ check, requests, variants, accepted });
  }

  print(): void {
    const width = Math.max(5, ...this.rows.map((row) => row.check.length));
    const line = (check: string, requests: number | string, variants: number | string, accepted: number | string): string =>
      `  ${check.padEnd(width)}  ${String(requests).padStart(8)}  ${String(variants).padStart(8)}  ${String(accepted).padStart(8)}`;
    const total = (key: 'requests' | 'variants' | 'accepted'): number => this.rows.reduce((sum, row) => sum + row[key], 0);
    console.log(`\n${this.title}:`);
    console.log(line('check', 'requests', 'variants', 'accepted'));
    for (const row of this.rows) console.log(line(row.check, row.requests, row.variants, row.accepted));
    console.log(line('total', total('requests'), total('variants'), total('accepted')));
  }
}
