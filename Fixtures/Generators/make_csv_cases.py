#!/usr/bin/env python3
"""Writes tricky CSV files and the rows Python's csv.reader gives for them into
Fixtures/csv-cases/, as an independent reference for the Swift manifest reader.

Each case NAME.csv has its expected rows in expected.json ({"NAME.csv": [[field, ...], ...]}).
Python yields [] for blank lines; the Swift reader ignores blank lines, so empty rows are
dropped. Files are read with utf-8-sig (a leading BOM is not data). The cases avoid spaces
around fields, where libcsv (trims) and Python (keeps) deliberately differ.
Run from the package root: python3 Fixtures/Generators/make_csv_cases.py
"""
import csv
import io
import json
import os

CASES = {
    "quoted.csv": b'file,caption,n\r\n"a.jpg","hello, world",1\r\nb.jpg,"say ""hi""",2\r\n"",empty,3\r\n',
    "embedded_newline.csv": b'file,note\n"x.jpg","line one\nline two"\ny.jpg,"a\r\nb"\nz.jpg,plain\n',
    "crlf_bom.csv": b'\xef\xbb\xbffile,age,gender,race,service_test\r\nval/1.jpg,3-9,Male,East Asian,True\r\nval/2.jpg,more than 70,Female,Latino_Hispanic,False\r\n',
    "trailing_blank_lines.csv": b'file,race\na.jpg,White\n\n\nb.jpg,Black\n\n\n',
    "no_final_newline.csv": b'file,race\na.jpg,Indian\nb.jpg,"Middle Eastern"',
    "unicode.csv": 'file,name\n\u00e9t\u00e9.jpg,"Zo\u00eb, \u65e5\u672c"\nx.jpg,caf\u00e9\n'.encode("utf-8"),
    "empty_fields.csv": b'file,a,b,c\nx.jpg,,,\ny.jpg,1,,3\n,,,\n',
    "big.csv": ("file,age,gender,race,service_test\n" + "".join(
        f'val/{i}.jpg,{["0-2","20-29","more than 70"][i % 3]},{["Male","Female"][i % 2]},'
        f'{["White","East Asian","Latino_Hispanic"][i % 3]},{"True" if i % 5 else "False"}\n'
        for i in range(1, 5001))).encode("utf-8"),
}


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "csv-cases")
    os.makedirs(root, exist_ok=True)
    expected = {}
    for name, data in sorted(CASES.items()):
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
        text = data.decode("utf-8-sig")
        rows = [row for row in csv.reader(io.StringIO(text, newline=""))]
        expected[name] = [row for row in rows if row != []]
    with open(os.path.join(root, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
