// Writes the Parquet test fixtures with two independent JavaScript writers (run once; the files are
// checked in):  cd /tmp/pq && npm install hyparquet-writer @dsnp/parquetjs && node make_fixtures.mjs OUTDIR
import { parquetWriteFile } from 'hyparquet-writer'
import parquetjs from '@dsnp/parquetjs'

const out = process.argv[2] ?? '.'
const texts = []
for (let i = 0; i < 40; i++) {
  texts.push(`Document ${i}: naïve café — 😀 line one\nline two of ${i}`)
}
texts.push('')
texts.push('a repeated text')
texts.push('a repeated text')

// hyparquet-writer, snappy (its default), several row groups and pages; an optional column with nulls
parquetWriteFile({
  filename: `${out}/hyparquet-snappy.parquet`,
  columnData: [
    { name: 'id', data: texts.map((_, i) => i), type: 'INT32' },
    { name: 'text', data: texts, type: 'STRING' },
    { name: 'note', data: texts.map((_, i) => (i % 3 === 0 ? null : `note ${i}`)), type: 'STRING' },
  ],
  rowGroupSize: 16,
  pageSize: 256,
})

// hyparquet-writer, uncompressed, a dictionary-friendly column of few distinct values
parquetWriteFile({
  filename: `${out}/hyparquet-dictionary.parquet`,
  columnData: [{ name: 'text', data: Array.from({ length: 300 }, (_, i) => ['alpha', 'beta', 'gamma δ'][i % 3]), type: 'STRING' }],
  codec: 'UNCOMPRESSED',
})

// parquetjs: data pages v1, gzip, an optional text column (hyparquet-writer writes v2 pages)
const schema = new parquetjs.ParquetSchema({
  text: { type: 'UTF8', optional: true, compression: 'GZIP' },
  n: { type: 'INT64' },
})
const writer = await parquetjs.ParquetWriter.openFile(schema, `${out}/parquetjs-gzip.parquet`, { useDataPageV2: false })
for (let i = 0; i < texts.length; i++) {
  await writer.appendRow(i === 5 ? { n: BigInt(i) } : { text: texts[i], n: BigInt(i) })
}
await writer.close()
