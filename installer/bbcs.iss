; Inno Setup 6 script for the Windows installer of bbcs (「办不成事」监督窗口工作台).
;
; Built by `python tasks.py package` on Windows (after the one-folder build and its self-test):
;   ISCC.exe /DAppVersion=0.1.0 /DNumericVersion=0.1.0.0 /DSourceDir=dist\bbcs /DOutputDir=dist installer\bbcs.iss
; and by .github/workflows/windows.yml. Writes dist\bbcs-<version>-setup.exe.
;
; * Per-machine install into Program Files ({autopf}\bbcs), for every user of the PC; needs an
;   administrator once.
; * The data (database, keys, backups, attachments) is NOT under {app}: the program keeps it in
;   each user's %LOCALAPPDATA%\bbcs. Nothing here deletes it, neither on upgrade nor on
;   uninstall — there is deliberately no [UninstallDelete] entry for it.
; * Upgrade in place: the same AppId finds the previous installation and installs over it in the
;   same folder; the program backs the database up and migrates it on its first start.
; * Chinese wizard: ChineseSimplified.isl is an unofficial translation — not in every Inno Setup
;   installation's Languages folder. It is taken from the compiler's Languages\Unofficial
;   folder when there, else from this folder (the CI workflow downloads it from the Inno Setup
;   source repository); otherwise compiling stops with a message saying so.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef NumericVersion
  #define NumericVersion "0.0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\dist\bbcs"
#endif
#ifndef OutputDir
  #define OutputDir "..\dist"
#endif

#define AppName "办不成事监督窗口工作台"
#define AppPublisher "「办不成事」监督窗口工作台开发组"
#define AppExe "bbcs.exe"

#if FileExists(AddBackslash(CompilerPath) + "Languages\Unofficial\ChineseSimplified.isl")
  #define ChineseMessages "compiler:Languages\Unofficial\ChineseSimplified.isl"
#elif FileExists(AddBackslash(CompilerPath) + "Languages\ChineseSimplified.isl")
  #define ChineseMessages "compiler:Languages\ChineseSimplified.isl"
#elif FileExists(AddBackslash(SourcePath) + "ChineseSimplified.isl")
  #define ChineseMessages AddBackslash(SourcePath) + "ChineseSimplified.isl"
#else
  #error ChineseSimplified.isl not found: put it into installer\ (from the Inno Setup source repository, Files\Languages\Unofficial) or into the compiler's Languages\Unofficial folder
#endif

[Setup]
; Never change the AppId: it is how an upgrade finds the installed program.
AppId={{6B1F3C2E-8D4A-4F7B-9C35-2E7A5D0B9F14}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppPublisher}
AppCopyright=© {#AppPublisher}
VersionInfoVersion={#NumericVersion}
VersionInfoProductName={#AppName}
VersionInfoDescription={#AppName} 安装程序
DefaultDirName={autopf}\bbcs
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
UsePreviousAppDir=yes
PrivilegesRequired=admin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#OutputDir}
OutputBaseFilename=bbcs-{#AppVersion}-setup
SetupIconFile=..\resources\icons\bbcs.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/ultra64
SolidCompression=yes
LZMAUseSeparateProcess=yes
WizardStyle=modern
; Close a running bbcs (Restart Manager) before files are replaced.
CloseApplications=yes
RestartApplications=no

[Languages]
Name: "chinesesimplified"; MessagesFile: "{#ChineseMessages}"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"

[InstallDelete]
; An upgrade replaces the program's libraries as a whole, so no file of the previous release
; (a Qt plugin, a library) is left behind to be loaded by the new one. Program files only:
; the data lives in %LOCALAPPDATA%\bbcs.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "“办不成事”反映事项登记、交办与督办"
Name: "{autoprograms}\{#AppName}（命令行）"; Filename: "{cmd}"; Parameters: "/k ""{app}\bbcs-cli.exe"" --help"; WorkingDir: "{userdocs}"; Comment: "bbcs-cli：备份、检查、导入导出等命令"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
; As the user who started the installer, not as the administrator who approved it: the data
; folder is the user's own.
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent runasoriginaluser
