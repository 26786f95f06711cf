import { IMAGE_TYPES, MAX_IMAGE_BYTES, sessionEndpoints, type ImageType } from '@codepiper/sessions-contract';
import { call } from './api.js';

const isImageType = (type: string): type is ImageType => (IMAGE_TYPES as readonly string[]).includes(type);

/** The image files among what was pasted or dropped. */
export const imageFiles = (transfer: DataTransfer | null): File[] => [...(transfer?.files ?? [])].filter((file) => isImageType(file.type));

/** Gives the daemon an image for the session's agent; answers the text that attaches it to a prompt. */
export async function attachImage(sessionId: string, file: File): Promise<string> {
  if (!isImageType(file.type)) throw new Error(`${file.name}: not a PNG, JPEG, GIF or WebP image`);
  if (file.size > MAX_IMAGE_BYTES) throw new Error(`${file.name} is ${Math.round(file.size / 1_048_576)} MB; an image may have at most ${MAX_IMAGE_BYTES / 1_048_576} MB`);
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  const { reference } = await call(sessionEndpoints.image, { params: { id: sessionId }, body: { mediaType: file.type, data: btoa(binary) } });
  return reference;
}

/** Puts `text` into the field at its cursor, as typing would. */
export function insertAtCursor(field: HTMLTextAreaElement, text: string): void {
  const { selectionStart, selectionEnd, value } = field;
  field.value = value.slice(0, selectionStart) + text + value.slice(selectionEnd);
  field.setSelectionRange(selectionStart + text.length, selectionStart + text.length);
  field.dispatchEvent(new Event('input', { bubbles: true }));
}
