; Inno Setup script for the Windows installer. Build steps: packaging/README.md (the CI workflow
; .github/workflows/windows.yml runs them on a hosted Windows runner).
#define AppVersion GetEnv("SENSORPROXY_VERSION")
#if AppVersion == ""
  #define AppVersion "0.0.0"
#endif

[Setup]
AppId={{6E0C3C2B-6F07-4B39-9E4B-5B6C0A5D9F21}
AppName=sensorproxy
AppVersion={#AppVersion}
AppPublisher=sensorproxy developers
DefaultDirName={autopf}\sensorproxy
DefaultGroupName=sensorproxy
OutputDir=..\..\build
OutputBaseFilename=sensorproxy-{#AppVersion}-windows-x64-setup
SetupIconFile=sensorproxy.ico
UninstallDisplayIcon={app}\sensorproxy-gui.exe
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; Per-user installs need no administrator rights on locked-down company laptops.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
Compression=lzma2/max
SolidCompression=yes
ChangesEnvironment=yes
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked
Name: "addtopath"; Description: "Add the sensorproxy command to PATH"

[Files]
Source: "..\..\build\dist\sensorproxy\*"; DestDir: "{app}"; Flags: recursesubdirs createallsubdirs ignoreversion
Source: "..\..\resources\example\*"; DestDir: "{app}\example"; Flags: ignoreversion

[Icons]
Name: "{group}\sensorproxy"; Filename: "{app}\sensorproxy-gui.exe"
Name: "{group}\sensorproxy (example site)"; Filename: "{app}\sensorproxy-gui.exe"; Parameters: """{app}\example\north-plant.toml"""
Name: "{autodesktop}\sensorproxy"; Filename: "{app}\sensorproxy-gui.exe"; Tasks: desktopicon

[Registry]
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; \
  Tasks: addtopath; Check: NeedsAddPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\sensorproxy-gui.exe"; Description: "Start sensorproxy"; Flags: nowait postinstall skipifsilent

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Path: string;
begin
  if not RegQueryStringValue(HKCU, 'Environment', 'Path', Path) then
    Path := '';
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Path) + ';') = 0;
end;
