/**
 * How many SMS parts a text takes: GSM 03.38 7-bit text fits 160 septets in one part and 153 per part when
 * concatenated; anything else is sent as UCS-2, 70 UTF-16 units in one part and 67 per part when concatenated.
 */

const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
// Characters of the extension table: an escape septet plus one.
const GSM_EXTENDED = new Set('^{}\\[~]|€\f');

export function messageParts(text: string): number {
  let septets = 0;
  for (const char of text) {
    if (GSM_BASIC.has(char)) septets += 1;
    else if (GSM_EXTENDED.has(char)) septets += 2;
    else return text.length <= 70 ? 1 : Math.ceil(text.length / 67);
  }
  return septets <= 160 ? 1 : Math.ceil(septets / 153);
}
