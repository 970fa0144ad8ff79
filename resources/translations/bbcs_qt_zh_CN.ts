<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<!--
  Qt 6.11 strings that Qt's own Simplified Chinese catalogue (qtbase_zh_CN.qm) does not translate
  yet: Qt renamed "Look in:" to "&Look in:" and "Files of type:" to "Files of &type:", so a
  non-native file dialog (Linux) showed them in English. Compiled to bbcs_qt_zh_CN.qm by
  `python tasks.py translations` (pyside6-lrelease); desktop_app/ui/theme.py loads both.
  tests/test_translations.py finds any string of Qt's standard dialogs still in English.
-->
<TS version="2.1" language="zh_CN">
<context>
    <name>QFileDialog</name>
    <message>
        <source>&amp;Look in:</source>
        <translation>查找范围(&amp;L)：</translation>
    </message>
    <message>
        <source>Files of &amp;type:</source>
        <translation>文件类型(&amp;T)：</translation>
    </message>
</context>
<context>
    <name>QAbstractFileIconProvider</name>
    <message>
        <source>Drive</source>
        <translation>驱动器</translation>
    </message>
    <message>
        <source>Folder</source>
        <comment>All other platforms</comment>
        <translation>文件夹</translation>
    </message>
    <message>
        <source>Folder</source>
        <comment>Match Windows Explorer</comment>
        <translation>文件夹</translation>
    </message>
    <message>
        <source>File Folder</source>
        <comment>Match Windows Explorer</comment>
        <translation>文件夹</translation>
    </message>
</context>
<context>
    <name>QPageSetupWidget</name>
    <message>
        <source>Page &amp;order:</source>
        <translation>页面顺序(&amp;O)：</translation>
    </message>
    <message>
        <source>Pages &amp;per sheet:</source>
        <translation>每张页数(&amp;P)：</translation>
    </message>
</context>
<context>
    <name>QPrintSettingsOutput</name>
    <message>
        <source>Page &amp;Set:</source>
        <translation>页面组(&amp;S)：</translation>
    </message>
</context>
<context>
    <name>QMimeType</name>
    <message>
        <source>folder</source>
        <translation>文件夹</translation>
    </message>
    <message>
        <source>PDF document</source>
        <translation>PDF 文档</translation>
    </message>
    <message>
        <source>JPEG image</source>
        <translation>JPEG 图像</translation>
    </message>
    <message>
        <source>PNG image</source>
        <translation>PNG 图像</translation>
    </message>
    <message>
        <source>TIFF image</source>
        <translation>TIFF 图像</translation>
    </message>
    <message>
        <source>BMP image</source>
        <translation>BMP 图像</translation>
    </message>
    <message>
        <source>plain text document</source>
        <translation>纯文本文档</translation>
    </message>
    <message>
        <source>CSV document</source>
        <translation>CSV 文档</translation>
    </message>
    <message>
        <source>JSON document</source>
        <translation>JSON 文档</translation>
    </message>
    <message>
        <source>TOML document</source>
        <translation>TOML 文档</translation>
    </message>
    <message>
        <source>ZIP archive</source>
        <translation>ZIP 压缩包</translation>
    </message>
    <message>
        <source>Word 2007 document</source>
        <translation>Word 文档</translation>
    </message>
    <message>
        <source>Word document</source>
        <translation>Word 97-2003 文档</translation>
    </message>
    <message>
        <source>Excel 2007 spreadsheet</source>
        <translation>Excel 工作簿</translation>
    </message>
    <message>
        <source>Excel spreadsheet</source>
        <translation>Excel 97-2003 工作簿</translation>
    </message>
    <message>
        <source>ODT document</source>
        <translation>ODT 文档</translation>
    </message>
    <message>
        <source>ODS spreadsheet</source>
        <translation>ODS 电子表格</translation>
    </message>
    <message>
        <source>SQLite3 database</source>
        <translation>SQLite3 数据库</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
</context>
</TS>
