import fs from 'node:fs';
import * as fontkit from 'fontkit';

/**
 * The fonts documents are drawn with: Noto Sans and, for the scripts it lacks, the Noto font of
 * that script (from the @expo-google-fonts packages, OFL), embedded as subsets. PDF's built-in
 * fonts cannot draw a customer named 山田 or محمد; these can. A font is read from disk the first
 * time a document needs it, and kept.
 */

interface FontFace {
  name: string;
  file: string;
  /** Its script is written right to left. */
  rtl?: boolean;
}

const face = (name: string, pkg: string, file: string, rtl = false): FontFace => ({ name, file: require.resolve(`@expo-google-fonts/${pkg}/${file}`), rtl });

export const regularFace = face('NotoSans', 'noto-sans', '400Regular/NotoSans_400Regular.ttf');
export const boldFace = face('NotoSans-Bold', 'noto-sans', '700Bold/NotoSans_700Bold.ttf');

/** Tried in order for a character Noto Sans cannot draw. */
const fallbackFaces: FontFace[] = [
  face('NotoSansArabic', 'noto-sans-arabic', '400Regular/NotoSansArabic_400Regular.ttf', true),
  face('NotoSansHebrew', 'noto-sans-hebrew', '400Regular/NotoSansHebrew_400Regular.ttf', true),
  face('NotoSansDevanagari', 'noto-sans-devanagari', '400Regular/NotoSansDevanagari_400Regular.ttf'),
  face('NotoSansBengali', 'noto-sans-bengali', '400Regular/NotoSansBengali_400Regular.ttf'),
  face('NotoSansTamil', 'noto-sans-tamil', '400Regular/NotoSansTamil_400Regular.ttf'),
  face('NotoSansThai', 'noto-sans-thai', '400Regular/NotoSansThai_400Regular.ttf'),
  face('NotoSansArmenian', 'noto-sans-armenian', '400Regular/NotoSansArmenian_400Regular.ttf'),
  face('NotoSansGeorgian', 'noto-sans-georgian', '400Regular/NotoSansGeorgian_400Regular.ttf'),
  face('NotoSansEthiopic', 'noto-sans-ethiopic', '400Regular/NotoSansEthiopic_400Regular.ttf'),
  face('NotoSansJP', 'noto-sans-jp', '400Regular/NotoSansJP_400Regular.ttf'),
  face('NotoSansKR', 'noto-sans-kr', '400Regular/NotoSansKR_400Regular.ttf'),
  face('NotoSansSC', 'noto-sans-sc', '400Regular/NotoSansSC_400Regular.ttf'),
];

interface LoadedFace extends FontFace {
  font: fontkit.Font;
}

const loaded = new Map<string, LoadedFace>();

function load(fontFace: FontFace): LoadedFace {
  let found = loaded.get(fontFace.name);
  if (!found) {
    found = { ...fontFace, font: fontkit.create(fs.readFileSync(fontFace.file)) as fontkit.Font };
    loaded.set(fontFace.name, found);
  }
  return found;
}

/** Spaces, punctuation and digits: drawn with the font of the text around them, so a run of one script stays whole (and right-to-left text keeps its word order). */
const neutral = /[\s\p{P}\p{S}\p{N}]/u;

/** The first fallback face that draws this character, loading only the faces tried. */
function fallbackFor(codePoint: number): LoadedFace | undefined {
  for (const fallback of fallbackFaces) {
    const candidate = load(fallback);
    if (candidate.font.hasGlyphForCodePoint(codePoint)) return candidate;
  }
  return undefined;
}

/** A piece of text and the face that draws it. */
export interface Run {
  text: string;
  face: LoadedFace;
}

/** Splits text into runs each drawn by one face: the given one where it has the glyphs, else the first fallback that does. */
export function runsOf(text: string, primary: FontFace): Run[] {
  const base = load(primary);
  const runs: Run[] = [];
  for (const char of text) {
    const codePoint = char.codePointAt(0)!;
    const current = runs[runs.length - 1];
    const chosen =
      current && neutral.test(char) && current.face.font.hasGlyphForCodePoint(codePoint)
        ? current.face
        : base.font.hasGlyphForCodePoint(codePoint)
          ? base
          : (fallbackFor(codePoint) ?? base);
    if (current && current.face === chosen) current.text += char;
    else runs.push({ text: char, face: chosen });
  }
  return runs;
}
