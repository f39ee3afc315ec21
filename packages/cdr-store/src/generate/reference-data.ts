/**
 * Real-looking reference data for synthetic CDRs: countries with their dialling codes, mobile (and some
 * landline) number ranges, mobile networks (MCC-MNC of real operators) and typical wholesale rates.
 */

export interface CountryProfile {
  /** ISO 3166-1 alpha-2. */
  code: string;
  /** Country calling code, without the +. */
  dial: string;
  /** Leading digits of subscriber numbers after the calling code; each is followed by `digits` random digits. */
  prefixes: readonly string[];
  digits: number;
  /** MCC-MNC of mobile operators in the country. */
  networks: readonly string[];
  /** Typical price of a voice minute and of one SMS part, as decimals. */
  voiceRate: string;
  smsRate: string;
  /** How often the country is a destination, relative to the others. */
  weight: number;
  /** Offset of its main time zone, for the records that carry a local offset, e.g. +01:00. */
  offset: string;
}

export const COUNTRIES: readonly CountryProfile[] = [
  { code: 'GB', dial: '44', prefixes: ['74', '75', '77', '78', '79', '20', '161'], digits: 8, networks: ['23410', '23415', '23420', '23430', '23433'], voiceRate: '0.0110', smsRate: '0.0360', weight: 14, offset: '+00:00' },
  { code: 'US', dial: '1', prefixes: ['2125', '4158', '6465', '3057', '3126', '2064', '5123', '6177'], digits: 6, networks: ['310260', '310410', '311480', '310120'], voiceRate: '0.0085', smsRate: '0.0079', weight: 14, offset: '-05:00' },
  { code: 'DE', dial: '49', prefixes: ['151', '160', '170', '171', '176', '30', '89'], digits: 8, networks: ['26201', '26202', '26203', '26207'], voiceRate: '0.0150', smsRate: '0.0790', weight: 9, offset: '+01:00' },
  { code: 'FR', dial: '33', prefixes: ['6', '7', '1'], digits: 8, networks: ['20801', '20810', '20815', '20820'], voiceRate: '0.0135', smsRate: '0.0720', weight: 8, offset: '+01:00' },
  { code: 'ES', dial: '34', prefixes: ['6', '7', '91'], digits: 8, networks: ['21401', '21403', '21404', '21407'], voiceRate: '0.0125', smsRate: '0.0650', weight: 6, offset: '+01:00' },
  { code: 'IT', dial: '39', prefixes: ['320', '333', '347', '351', '366', '02'], digits: 7, networks: ['22201', '22210', '22250', '22288'], voiceRate: '0.0140', smsRate: '0.0690', weight: 6, offset: '+01:00' },
  { code: 'NL', dial: '31', prefixes: ['6', '20'], digits: 8, networks: ['20404', '20408', '20416'], voiceRate: '0.0160', smsRate: '0.0850', weight: 5, offset: '+01:00' },
  { code: 'BE', dial: '32', prefixes: ['47', '48', '49'], digits: 7, networks: ['20601', '20610', '20620'], voiceRate: '0.0170', smsRate: '0.0880', weight: 3, offset: '+01:00' },
  { code: 'IE', dial: '353', prefixes: ['83', '85', '86', '87', '89'], digits: 7, networks: ['27201', '27202', '27205'], voiceRate: '0.0180', smsRate: '0.0590', weight: 3, offset: '+00:00' },
  { code: 'PL', dial: '48', prefixes: ['50', '51', '60', '69', '79', '88'], digits: 7, networks: ['26001', '26002', '26003', '26006'], voiceRate: '0.0095', smsRate: '0.0310', weight: 4, offset: '+01:00' },
  { code: 'SE', dial: '46', prefixes: ['70', '72', '73', '76'], digits: 7, networks: ['24001', '24002', '24007', '24008'], voiceRate: '0.0120', smsRate: '0.0540', weight: 3, offset: '+01:00' },
  { code: 'CH', dial: '41', prefixes: ['76', '77', '78', '79'], digits: 7, networks: ['22801', '22802', '22803'], voiceRate: '0.0290', smsRate: '0.0610', weight: 3, offset: '+01:00' },
  { code: 'AT', dial: '43', prefixes: ['664', '660', '676', '699'], digits: 7, networks: ['23201', '23203', '23210'], voiceRate: '0.0190', smsRate: '0.0750', weight: 2, offset: '+01:00' },
  { code: 'PT', dial: '351', prefixes: ['91', '92', '93', '96'], digits: 7, networks: ['26801', '26803', '26806'], voiceRate: '0.0130', smsRate: '0.0330', weight: 2, offset: '+00:00' },
  { code: 'IN', dial: '91', prefixes: ['98', '99', '97', '91', '70', '63'], digits: 8, networks: ['40410', '40420', '40445', '405857'], voiceRate: '0.0210', smsRate: '0.0042', weight: 7, offset: '+05:30' },
  { code: 'BR', dial: '55', prefixes: ['119', '219', '319', '419', '619'], digits: 8, networks: ['72402', '72405', '72406', '72431'], voiceRate: '0.0230', smsRate: '0.0220', weight: 4, offset: '-03:00' },
  { code: 'MX', dial: '52', prefixes: ['55', '33', '81'], digits: 8, networks: ['334020', '334030', '334050'], voiceRate: '0.0110', smsRate: '0.0280', weight: 3, offset: '-06:00' },
  { code: 'CA', dial: '1', prefixes: ['4163', '6042', '5148', '4039'], digits: 6, networks: ['302220', '302610', '302720'], voiceRate: '0.0090', smsRate: '0.0082', weight: 3, offset: '-05:00' },
  { code: 'JP', dial: '81', prefixes: ['90', '80', '70'], digits: 8, networks: ['44010', '44020', '44050'], voiceRate: '0.0720', smsRate: '0.0780', weight: 2, offset: '+09:00' },
  { code: 'AU', dial: '61', prefixes: ['4'], digits: 8, networks: ['50501', '50502', '50503'], voiceRate: '0.0260', smsRate: '0.0420', weight: 2, offset: '+10:00' },
  { code: 'SG', dial: '65', prefixes: ['8', '9'], digits: 7, networks: ['52501', '52503', '52505'], voiceRate: '0.0160', smsRate: '0.0330', weight: 2, offset: '+08:00' },
  { code: 'ZA', dial: '27', prefixes: ['60', '71', '72', '82', '83'], digits: 7, networks: ['65501', '65507', '65510'], voiceRate: '0.0450', smsRate: '0.0190', weight: 2, offset: '+02:00' },
  { code: 'NG', dial: '234', prefixes: ['703', '803', '805', '806', '813', '902'], digits: 7, networks: ['62120', '62130', '62150', '62160'], voiceRate: '0.0980', smsRate: '0.0510', weight: 2, offset: '+01:00' },
  { code: 'AE', dial: '971', prefixes: ['50', '52', '54', '55', '56'], digits: 7, networks: ['42402', '42403'], voiceRate: '0.1150', smsRate: '0.0360', weight: 2, offset: '+04:00' },
  { code: 'CN', dial: '86', prefixes: ['138', '139', '150', '186', '188'], digits: 8, networks: ['46000', '46001', '46011'], voiceRate: '0.0120', smsRate: '0.0260', weight: 2, offset: '+08:00' },
  { code: 'TR', dial: '90', prefixes: ['530', '532', '542', '555'], digits: 7, networks: ['28601', '28602', '28603'], voiceRate: '0.0320', smsRate: '0.0090', weight: 2, offset: '+03:00' },
  { code: 'KE', dial: '254', prefixes: ['70', '71', '72', '11'], digits: 7, networks: ['63902', '63903'], voiceRate: '0.0410', smsRate: '0.0150', weight: 1, offset: '+03:00' },
  { code: 'PH', dial: '63', prefixes: ['917', '918', '927', '939'], digits: 7, networks: ['51502', '51503'], voiceRate: '0.1400', smsRate: '0.0160', weight: 1, offset: '+08:00' },
  { code: 'ID', dial: '62', prefixes: ['811', '812', '813', '857', '878'], digits: 8, networks: ['51001', '51010', '51011'], voiceRate: '0.0850', smsRate: '0.0330', weight: 1, offset: '+07:00' },
];

/** Countries that accounts call home: their own numbers are there, and they are billed in its currency. */
export const HOME_COUNTRIES: readonly { code: string; currency: string }[] = [
  { code: 'GB', currency: 'GBP' },
  { code: 'US', currency: 'USD' },
  { code: 'DE', currency: 'EUR' },
  { code: 'NL', currency: 'EUR' },
  { code: 'FR', currency: 'EUR' },
  { code: 'SG', currency: 'USD' },
];

/** Alphanumeric sender ids and short codes used by outbound messages. */
export const SENDER_IDS: readonly string[] = ['ACME', 'AcmeBank', 'Verify', 'DHL', 'ParcelGo', 'CityCab', 'MyShop', 'Alerts', 'Info 24', '72345', '61000'];

/** Q.850 / FreeSWITCH cause names per voice status. */
export const HANGUP_CAUSES = {
  answered: [['NORMAL_CLEARING', 95], ['NORMAL_UNSPECIFIED', 5]],
  busy: [['USER_BUSY', 1]],
  no_answer: [['NO_ANSWER', 3], ['NO_USER_RESPONSE', 1]],
  failed: [
    ['CALL_REJECTED', 3],
    ['UNALLOCATED_NUMBER', 3],
    ['NORMAL_TEMPORARY_FAILURE', 2],
    ['NO_ROUTE_DESTINATION', 1],
    ['RECOVERY_ON_TIMER_EXPIRE', 1],
    ['NETWORK_OUT_OF_ORDER', 1],
  ],
} as const satisfies Record<string, readonly (readonly [string, number])[]>;

/**
 * Message bodies with the characters that break naive CSV and COPY handling: commas, double quotes, CR/LF
 * and tab, backslashes, accented Latin, other scripts and emoji. `{code}`, `{name}`, `{n}` and `{amount}` are
 * filled in per record.
 */
export const MESSAGE_TEMPLATES: readonly string[] = [
  'Your verification code is {code}. It expires in 10 minutes.',
  '{code} is your login code. Do not share it with anyone.',
  'Hi {name}, your order #{n} has shipped, and should arrive tomorrow.',
  'He said "see you at 5", ok? Reply YES or NO.',
  'Reminder:\nDentist appointment tomorrow at 09:30.\nReply STOP to opt out.',
  'Line one\r\nLine two, with "quotes" and a\ttab',
  'Your balance is {amount}. Top up at https://example.com/topup?ref={n}&src=sms',
  'Ihre Bestellung ist unterwegs. Grüße, Ihr Shop-Team',
  'Votre code est {code} — ne le partagez pas.',
  '您的验证码是{code}，请勿泄露。',
  'Ваш код: {code}. Никому его не сообщайте.',
  'مرحبا {name}، رصيدك {amount}',
  '🎉 Happy birthday, {name}! 🎂 Enjoy 20% off today.',
  'Driver arriving in 3 min 🚕 — plate "KX 21 ABC"',
  'Path on the share: C:\\exports\\{n}\\report.csv, backslashes and all',
  'Rendez-vous confirmé pour {name}, à demain 👍',
  'Dear {name}, your appointment at the Northside clinic is confirmed for tomorrow at 09:30. Please bring your insurance card and arrive 10 minutes early. To reschedule, reply R or call 0800 123 456.',
  'Уважаемый клиент, ваш заказ {n} передан в службу доставки и будет доставлен завтра с 9:00 до 18:00.',
];

export const NAMES: readonly string[] = ['Anna', 'José', 'Zoë', 'Łukasz', 'Søren', 'Amélie', 'Ólafur', 'Priya', 'Chen Wei', "O'Brien"];

/** Client references; a few start with = + - @, which spreadsheets would run as formulas. */
export const CLIENT_REFS: readonly string[] = ['order-{n}', 'cmp-2026-spring', 'user:{n}', 'ticket #{n}', 'batch {n}, retry 2', 'ref "{n}"'];
export const FORMULA_CLIENT_REFS: readonly string[] = ['=HYPERLINK("http://example.com","click")', '+1 555 0100', '-42+1', '@SUM(A1:A9)', '=1+2'];
