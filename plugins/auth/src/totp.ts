import { generateSecret, generateURI, verifySync } from 'otplib';

const ISSUER = 'CodePiper';
/** One 30-second step of clock drift either way. */
const DRIFT_SECONDS = 30;

export interface Enrollment {
  secret: string;
  uri: string;
  qrSvg: string;
}

/** A new secret and its QR code (the QR code generator is loaded here: it serves enrollment alone). */
export async function newEnrollment(label: string): Promise<Enrollment> {
  const { default: qrcode } = await import('qrcode-generator');
  const secret = generateSecret();
  const uri = generateURI({ issuer: ISSUER, label, secret });
  const qr = qrcode(0, 'M');
  qr.addData(uri);
  qr.make();
  return { secret, uri, qrSvg: qr.createSvgTag({ cellSize: 4, margin: 4, scalable: true }) };
}

/**
 * The time step of a valid code, or undefined. A code whose step is not
 * after `lastStep` (the last one used) is refused: no code works twice.
 */
export function verifyTotp(secret: string, code: string, lastStep: number | null): number | undefined {
  if (!/^[0-9]{6}$/.test(code)) return undefined;
  const result = verifySync({ strategy: 'totp', secret, token: code, epochTolerance: DRIFT_SECONDS, ...(lastStep !== null && { afterTimeStep: lastStep }) });
  return result.valid && 'timeStep' in result ? result.timeStep : undefined;
}
